"""Pinocchio backend: manipulator terms from a `pinocchio.Model` (the `pin` package, `pip install underact[pinocchio]`).

M from `crba` (upper triangle, mirrored), τg = −`computeGeneralizedGravity`, Cv = `nonLinearEffects` − g, and
C = `computeCoriolisMatrix` (the spatial-algebra form, which is the Christoffel one on joint coordinates); joint
damping (`<dynamics damping>`, Pinocchio's `model.damping`) stays out of Cv and is `damping(v)`. B comes from the
actuators `load` hands over (the actuation model of `underact.description`, the same on every engine); without
them, from the file's `<transmission>`s by Drake's URDF rule (`underact.plants.files.urdf_transmissions`).
pinocchio is imported here only, and lazily by `underact.load`.

Coordinates are the project's (`underact.plants.base`), mapped to Pinocchio's exactly:

- a continuous (unbounded revolute) joint is one angle θ here and (cos θ, sin θ) in Pinocchio;
- a free body (the root joint of a floating base) is q = [qw, qx, qy, qz, x, y, z], v = [ω, v] in the world here,
  and q_pin = [x, y, z, qx, qy, qz, qw], v_pin = [Rᵀ v, Rᵀ ω] (the body frame, linear first) in Pinocchio.

With v_pin = T v (T a permutation times D = diag(…, Rᵀ, Rᵀ, …)), the terms returned are M' = Tᵀ M T,
Cv' = Tᵀ(Cv + M Ṫ v) (Ṫ v = (0, −ω_b × v_b): the body-frame linear velocity turns with the body),
τg' = Tᵀ τg and C' = Tᵀ(C T + M Ṫ), which keeps Ṁ' − 2C' skew-symmetric.
"""

from __future__ import annotations

import os
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from underact.errors import UnderactError, one_line
from underact.plants.base import FLOATING_POSITION_ORDER, FLOATING_VELOCITY_ORDER, Plant, quat_to_rot
from underact.terms import ManipulatorTerms, cross_matrix

try:
    import pinocchio as pin
except ImportError:  # pragma: no cover - the test extra installs it
    raise UnderactError("the pinocchio backend needs Pinocchio: pip install underact[pinocchio]") from None

FREE_Q, FREE_V = FLOATING_POSITION_ORDER, FLOATING_VELOCITY_ORDER


class PinocchioPlant(Plant):
    """Manipulator terms from a Pinocchio model, in the project's coordinates."""

    backend = "pinocchio"

    def __init__(self, model, name: str, actuated: list[tuple[str, dict, float | None]], base_name: str = "base"):
        """`actuated`: (actuator name, {joint name: generalized force per unit u}, effort limit or None), one per
        actuator; `base_name` names the free body's coordinates when the root joint is free."""
        self.model = model
        self.data = model.createData()
        self.name = name
        self.warnings = []
        self._layout(base_name)
        by_joint = {name: i for i, name in enumerate(self.velocity_names)}
        self.nu = len(actuated)
        self.actuator_names = [a for a, _, _ in actuated]
        self._B = np.zeros((self.nv, self.nu))
        unmapped = []
        for k, (actuator, column, _) in enumerate(actuated):
            for joint, value in column.items():
                if joint in by_joint:
                    self._B[by_joint[joint], k] += value
                else:
                    unmapped.append(actuator)
        if unmapped:
            self.warnings.append(f"{len(unmapped)} actuator(s) act on coordinates Pinocchio did not make "
                                 f"({', '.join(repr(a) for a in unmapped[:3])}); those entries of B are zero")
        self.u_limit = np.array(
            [np.inf if e is None or not e > 0 else float(e) for _, _, e in actuated], dtype=np.float64
        )
        self.b = np.zeros(self.nv)
        self.b[self._v_direct] = np.asarray(model.damping)[self._v_pin_direct]
        self.q_rest = self.from_engine_q(np.asarray(pin.neutral(model))[None])[0]
        self.upright = self.q_rest.copy()
        self._pe0 = 0.0
        self._pe0 = float(self._potential(self.q_rest[None])[0])

    def __getstate__(self) -> dict:
        """Pickles without the batch pool (Boost cannot pickle it); it is remade on first use."""
        return {k: v for k, v in self.__dict__.items() if k != "_pool"}

    # --- the coordinate map ----------------------------------------------------------------------------------
    def _layout(self, base_name: str) -> None:
        """Index maps between the project's coordinates and Pinocchio's, joint by joint in Pinocchio's order."""
        m = self.model
        positions, velocities, angle = [], [], []
        q_direct, q_pin_direct, v_direct, v_pin_direct = [], [], [], []
        self._unbounded = []  # (index of θ here, index of cos θ in Pinocchio)
        self._free = []  # (q index here, v index here, q index in Pinocchio, v index in Pinocchio)
        for j in range(1, m.njoints):
            joint, kind, name = m.joints[j], m.joints[j].shortname(), m.names[j]
            iq, iv = len(positions), len(velocities)
            if kind == "JointModelFreeFlyer":
                self._free.append((iq, iv, joint.idx_q, joint.idx_v))
                positions += [f"{base_name}_{s}" for s in FREE_Q]
                velocities += [f"{base_name}_{s}" for s in FREE_V]
                angle += [False] * 7
            elif joint.nq == 1 and joint.nv == 1:
                q_direct.append(iq), q_pin_direct.append(joint.idx_q)
                v_direct.append(iv), v_pin_direct.append(joint.idx_v)
                positions.append(name), velocities.append(name)
                angle.append(kind.startswith(("JointModelR", "JointModelRevolute")))
            elif joint.nq == 2 and joint.nv == 1:  # continuous: (cos θ, sin θ)
                self._unbounded.append((iq, joint.idx_q))
                v_direct.append(iv), v_pin_direct.append(joint.idx_v)
                positions.append(name), velocities.append(name)
                angle.append(True)
            else:
                raise UnderactError(
                    f"{self.name}: joint '{name}' ({kind.removeprefix('JointModel')}) has no counterpart in the "
                    "project's coordinates on Pinocchio; use --backend drake"
                )
        self.nq, self.nv = len(positions), len(velocities)
        self.velocity_names = velocities
        self.position_names = positions if positions != velocities else []
        self.angle_mask = np.array(angle, dtype=bool)
        self.quaternion_starts = tuple(f[0] for f in self._free)
        self._q_direct, self._q_pin_direct = np.array(q_direct, int), np.array(q_pin_direct, int)
        self._v_direct, self._v_pin_direct = np.array(v_direct, int), np.array(v_pin_direct, int)
        # v_perm[i]: Pinocchio's velocity index of coordinate i here (a free body's ω ↔ its angular triple)
        self._v_perm = np.empty(self.nv, dtype=int)
        self._v_perm[self._v_direct] = self._v_pin_direct
        for _, iv, _, pv in self._free:
            self._v_perm[iv : iv + 3], self._v_perm[iv + 3 : iv + 6] = np.arange(pv + 3, pv + 6), np.arange(pv, pv + 3)
        self._same_v = not self._free and np.array_equal(self._v_perm, np.arange(self.nv))  # nothing to map

    def to_engine_q(self, q: np.ndarray) -> np.ndarray:
        """Pinocchio's configurations (N, nq_pin) for the project's q (N, nq); quaternions normalised."""
        out = np.zeros((len(q), self.model.nq))
        out[:, self._q_pin_direct] = q[:, self._q_direct]
        for iq, pq in self._unbounded:
            out[:, pq], out[:, pq + 1] = np.cos(q[:, iq]), np.sin(q[:, iq])
        for iq, _, pq, _ in self._free:
            quat = q[:, iq : iq + 4] / np.linalg.norm(q[:, iq : iq + 4], axis=1, keepdims=True)
            out[:, pq : pq + 3] = q[:, iq + 4 : iq + 7]
            out[:, pq + 3 : pq + 6], out[:, pq + 6] = quat[:, 1:], quat[:, 0]
        return out

    def from_engine_q(self, q_pin: np.ndarray) -> np.ndarray:
        """The project's configurations (N, nq) for Pinocchio's (N, nq_pin)."""
        out = np.zeros((len(q_pin), self.nq))
        out[:, self._q_direct] = q_pin[:, self._q_pin_direct]
        for iq, pq in self._unbounded:
            out[:, iq] = np.arctan2(q_pin[:, pq + 1], q_pin[:, pq])
        for iq, _, pq, _ in self._free:
            out[:, iq], out[:, iq + 1 : iq + 4] = q_pin[:, pq + 6], q_pin[:, pq + 3 : pq + 6]
            out[:, iq + 4 : iq + 7] = q_pin[:, pq : pq + 3]
        return out

    def _rotations(self, q: np.ndarray) -> list[np.ndarray]:
        """Each free body's R (N, 3, 3), body to world."""
        return [quat_to_rot(q[:, iq : iq + 4]) for iq, _, _, _ in self._free]

    def to_engine_v(self, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Pinocchio's velocities (N, nv) for the project's (N, nv): v_pin = T v."""
        out = np.empty_like(v)
        out[:, self._v_perm] = self._rotate(v, self._rotations(q), transpose=True)
        return out

    def _rotate(self, x: np.ndarray, rotations: list[np.ndarray], transpose: bool) -> np.ndarray:
        """x (N, nv, …) with each free body's two triples (axis 1) multiplied by Rᵀ (`transpose`) or R."""
        if not self._free:
            return x
        x = x.copy()
        sub = "nji,nj...->ni..." if transpose else "nij,nj...->ni..."
        for (_, iv, _, _), R in zip(self._free, rotations, strict=True):
            for s in (iv, iv + 3):
                x[:, s : s + 3] = np.einsum(sub, R, x[:, s : s + 3])
        return x

    def _to_canonical(self, x: np.ndarray, rotations: list[np.ndarray], rows_only: bool = False) -> np.ndarray:
        """Tᵀ x (a force, axis 1) or Tᵀ X T (a matrix, axes 1 and 2) from Pinocchio's coordinates."""
        if self._same_v:
            return x
        x = x[:, self._v_perm] if rows_only or x.ndim == 2 else x[:, self._v_perm][:, :, self._v_perm]
        x = self._rotate(x, rotations, transpose=False)  # Dᵀ = diag(R, R, I) on the rows
        if x.ndim == 3 and not rows_only:
            x = np.swapaxes(self._rotate(np.swapaxes(x, 1, 2), rotations, transpose=False), 1, 2)
        return x

    # --- the terms -----------------------------------------------------------------------------------------
    def _engine_terms(self, q_pin: np.ndarray, v_pin: np.ndarray):
        """Pinocchio's M (mirrored), nle = C v + g and g at each state, in Pinocchio's coordinates.

        M is one `crba` call per state; nle and g are RNEA over the whole batch in one C++ call each
        (`rneaInParallel` on one thread: nle = RNEA(q, v, 0), g = RNEA(q, 0, 0)), no Python per state."""
        m, d = self.model, self.data
        n, nv = len(q_pin), self.nv
        M = np.empty((n, nv, nv))
        crba = pin.crba
        for i in range(n):
            M[i] = crba(m, d, q_pin[i])
        below = np.tril_indices(nv, -1)
        M[:, below[0], below[1]] = M[:, below[1], below[0]]  # crba fills the upper triangle
        if nv == 0:
            return M, np.zeros((n, 0)), np.zeros((n, 0))
        if getattr(self, "_pool", None) is None:
            self._pool = pin.ModelPool(m, 1)
        Q, zero = np.asfortranarray(q_pin.T), np.zeros((nv, n), order="F")
        nle = np.asarray(pin.rneaInParallel(1, self._pool, Q, np.asfortranarray(v_pin.T), zero)).reshape(nv, n).T
        g = np.asarray(pin.rneaInParallel(1, self._pool, Q, zero, zero)).reshape(nv, n).T  # (nv,) when n = 1
        return M, nle, g

    def _terms(self, q, v):
        q_pin, v_pin = self.to_engine_q(q), self.to_engine_v(q, v)
        M, nle, g = self._engine_terms(q_pin, v_pin)
        Cv, tau_g = nle - g, -g
        rotations = self._rotations(q)
        if self._free:
            Cv = Cv + np.einsum("nij,nj->ni", M, self._tdot_v(q, v, rotations))
        M, Cv, tau_g = (self._to_canonical(x, rotations) for x in (M, Cv, tau_g))
        return ManipulatorTerms(M, Cv, tau_g, np.broadcast_to(self._B, (len(q), self.nv, self.nu)).copy())

    def _tdot_v(self, q, v, rotations) -> np.ndarray:
        """Ṫ v in Pinocchio's coordinates: −ω_b × v_b on each free body's linear triple, zero elsewhere."""
        out = np.zeros_like(v)
        for (_, iv, _, pv), R in zip(self._free, rotations, strict=True):
            w_b = np.einsum("nji,nj->ni", R, v[:, iv : iv + 3])
            v_b = np.einsum("nji,nj->ni", R, v[:, iv + 3 : iv + 6])
            out[:, pv : pv + 3] = -np.cross(w_b, v_b)
        return out

    def _coriolis(self, q, v):
        """C' = Tᵀ(C T + M Ṫ) from `computeCoriolisMatrix`."""
        m, d = self.model, self.data
        q_pin, v_pin = self.to_engine_q(q), self.to_engine_v(q, v)
        n, nv = len(q), self.nv
        C = np.empty((n, nv, nv))
        for i in range(n):
            C[i] = pin.computeCoriolisMatrix(m, d, q_pin[i], v_pin[i])
        rotations = self._rotations(q)
        if not self._free:
            return self._to_canonical(C, rotations)
        M = self._engine_terms(q_pin, v_pin)[0]
        # C T + M Ṫ, columns in Pinocchio's order: T = P D, Ṫ = P Ḋ with Ḋ = diag(−[ω_b]× Rᵀ, −[ω_b]× Rᵀ, 0)
        T = np.zeros((n, nv, nv))
        Tdot = np.zeros((n, nv, nv))
        eye = np.broadcast_to(np.eye(nv), (n, nv, nv))
        T[:, self._v_perm] = self._rotate(eye, rotations, transpose=True)
        for (_, iv, _, _), R in zip(self._free, rotations, strict=True):
            w_b = np.einsum("nji,nj->ni", R, v[:, iv : iv + 3])
            block = -cross_matrix(w_b) @ np.swapaxes(R, 1, 2)
            for s in (iv, iv + 3):
                Tdot[:, self._v_perm[s : s + 3], s : s + 3] = block
        rhs = C @ T + M @ Tdot  # (n, nv_pin, nv) with columns already in the project's coordinates
        return self._to_canonical(rhs, rotations, rows_only=True)

    def _potential(self, q):
        q_pin = self.to_engine_q(q)
        out = np.array([pin.computePotentialEnergy(self.model, self.data, x) for x in q_pin])
        return out - self._pe0

    def position_limits(self):
        lo, hi = np.full(self.nq, -np.inf), np.full(self.nq, np.inf)
        lo[self._q_direct] = np.asarray(self.model.lowerPositionLimit)[self._q_pin_direct]
        hi[self._q_direct] = np.asarray(self.model.upperPositionLimit)[self._q_pin_direct]
        unlimited = lo <= -np.finfo(np.float64).max / 2
        lo[unlimited], hi[unlimited] = -np.inf, np.inf
        return lo, hi

    # --- loading -------------------------------------------------------------------------------------------
    @classmethod
    def from_urdf(
        cls, path: str | Path, base: str = "auto", actuators: list | None = None, strict: bool = False
    ) -> PinocchioPlant:
        """A URDF file as Drake reads it (`underact.plants.files`): unloadable meshes dropped, `world` declared,
        the base mode applied, massless links with inertia given the floor mass; a floating root becomes a free
        body named after its link. `actuators`: the actuation model's (`underact.description.actuation`; each
        with `name`, `column` {(joint, coordinate): force per unit u} and `effort`), else the file's
        transmissions by Drake's rule. Inertias are repaired (with `strict`, refused) as for the other engines."""
        from underact.description.sanitize import engine_urdf
        from underact.plants.files import (
            MIN_MASS,
            massless_with_inertia,
            repair_inertias,
            urdf_transmissions,
            urdf_with_base,
        )

        path = Path(path)
        root, floating_root = urdf_with_base(engine_urdf(path), path.name, base)
        warnings = massless_with_inertia(root, MIN_MASS)
        warnings += repair_inertias(root, path.name, strict)  # the same repair as the other engines'
        text = ET.tostring(root, encoding="unicode")
        said: list[str] = []
        try:
            with _parser_output(said):
                if floating_root is None:
                    model = pin.buildModelFromXML(text)
                else:
                    model = pin.buildModelFromXML(text, pin.JointModelFreeFlyer())
        except (Exception, SystemExit) as exc:  # Pinocchio raises ValueError/RuntimeError, multi-line
            why = next((line.removeprefix("Error:").strip() for line in said if line.startswith("Error:")),
                       one_line(exc))
            raise UnderactError(f"{path}: Pinocchio could not load the model: {why[:200]}") from None
        if floating_root is not None and not sum(model.inertias[j].mass for j in range(1, 2)) > 0.0:
            raise UnderactError(
                f"{path.name}: floating base link '{floating_root}' has no mass (nor has anything welded to it), so "
                "it has no dynamics; bolt it to the world with --base fixed (load(..., base='fixed'))"
            )
        if actuators is None:
            actuated = [(a, {joint: 1.0}, effort) for a, joint, effort in urdf_transmissions(root)]
        else:
            actuated = [(a.name, _joint_column(a.column), a.effort) for a in actuators]
        plant = cls(model, path.stem, actuated, base_name=floating_root or "base")
        plant.warnings = warnings + plant.warnings
        return plant

    @classmethod
    def builtin(cls, name: str, params) -> PinocchioPlant:
        """Built-in system `name` from its parameters (its record's `pinocchio_plant`, `underact.systems`)."""
        from underact.systems import get

        return get(name).pinocchio_plant(params)

    @classmethod
    def planar(cls, name: str, links: list, damping: list, actuated: str, u_limit: float, gravity: float):
        """A planar chain from its parameters: links (joint name, "revolute" | "prismatic", offset below the parent
        joint along −z, mass, centre-of-mass distance along −z, inertia about the centre), revolute joints turning
        about −y and prismatic ones sliding along x, hanging along −z at q = 0 as Drake's shipped files; one
        actuator on joint `actuated`."""
        model = pin.Model()
        axis = np.array([0.0, -1.0, 0.0])
        parent = 0
        for joint_name, kind, offset, mass, com, inertia in links:
            joint_model = pin.JointModelRevoluteUnaligned(axis) if kind == "revolute" else pin.JointModelPX()
            placement = pin.SE3(np.eye(3), np.array([0.0, 0.0, -offset]))
            parent = model.addJoint(parent, joint_model, placement, joint_name)
            body = pin.Inertia(mass, np.array([0.0, 0.0, -com]), inertia * np.eye(3))
            model.appendBodyToJoint(parent, body, pin.SE3.Identity())
        return cls.from_model(model, name, damping, [(actuated, {actuated: 1.0}, u_limit)], gravity)

    @classmethod
    def from_model(cls, model, name: str, damping: list, actuated: list, gravity: float) -> PinocchioPlant:
        """A plant of a Pinocchio `model` built in code, with joint damping and gravity along −z."""
        model.gravity = pin.Motion(np.array([0.0, 0.0, -gravity, 0.0, 0.0, 0.0]))
        model.damping = np.asarray(damping, dtype=np.float64)
        return cls(model, name, actuated)


@contextmanager
def _parser_output(lines: list[str]) -> Iterator[None]:
    """Collects what Pinocchio's URDF parser (urdfdom) prints on the C-level stderr, one stripped line each, instead
    of letting it reach the terminal around the one-line error."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines.extend(x.strip() for x in sink.read().decode("utf-8", "replace").splitlines() if x.strip())


def _joint_column(column: dict) -> dict:
    """{joint: force per unit u} from an actuation-model column {(joint, coordinate): …}; a coordinate other than
    a one-DoF joint's 0 (the floating base, a multi-DoF joint) is kept under a name no coordinate has."""
    out: dict = {}
    for (joint, axis), value in column.items():
        key = joint if axis == 0 else f"{joint}[{axis}]"
        out[key] = out.get(key, 0.0) + value
    return out
