"""MuJoCo backend: manipulator terms from an `MjModel`.

M from `mj_fullM`; Cv − τg = `qfrc_bias` (RNE with the current velocities), τg = −`qfrc_bias` at zero velocity;
B = transpose of the dense actuator moment matrix (gears, tendons, sites and slider-cranks included); joint
damping (`dof_damping`) and armature stay out of Cv: damping is `damping(v)`, armature is part of M, as in
MuJoCo. Contacts are disabled while computing terms. MuJoCo comes from `underact.engines.mujoco`, which loads and
compiles the models and turns MuJoCo's warnings into Python warnings (`RuntimeWarning`, "MuJoCo: …") instead of
lines in a MUJOCO_LOG.TXT in the current directory.

Free joints are presented in the project's one floating-base convention (see `underact.plants.base`): the plant
takes q = [quaternion, position] and v = [ω in the world, v in the world] and maps them to MuJoCo's
qpos = [position, quaternion], qvel = [v in the world, ω in the body], v_mj = J v with J = diag(…, [[0, I], [Rᵀ, 0]],
…). Generalized forces map back by Jᵀ, so the terms returned are M' = Jᵀ M J, Cv' = Jᵀ Cv (J̇ v = −ω_b × ω_b = 0),
τg' = Jᵀ τg and B' = Jᵀ B. Ball joints keep MuJoCo's own coordinates (quaternion, ω in the body frame).
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import numpy as np

from underact.description.mjcf import authority
from underact.engines.mujoco import compile_spec, load_string, mujoco, spec_file
from underact.errors import UnderactError
from underact.plants.base import FLOATING_POSITION_ORDER, FLOATING_VELOCITY_ORDER, Plant, quat_to_rot
from underact.terms import ManipulatorTerms

_FREE, _BALL = int(mujoco.mjtJoint.mjJNT_FREE), int(mujoco.mjtJoint.mjJNT_BALL)
_HINGE = int(mujoco.mjtJoint.mjJNT_HINGE)
FREE_Q, FREE_V = FLOATING_POSITION_ORDER, FLOATING_VELOCITY_ORDER


class MujocoPlant(Plant):
    """Manipulator terms from a MuJoCo model."""

    backend = "mujoco"

    def __init__(self, model: mujoco.MjModel, name: str):
        self.model = model
        self.model.opt.disableflags |= int(mujoco.mjtDisableBit.mjDSBL_CONTACT)
        self.model.opt.enableflags |= int(mujoco.mjtEnableBit.mjENBL_ENERGY)
        self.data = mujoco.MjData(model)
        self.name = name
        self.warnings = []
        self.nq, self.nv, self.nu = model.nq, model.nv, model.nu
        free = np.flatnonzero(model.jnt_type == _FREE)
        #: (qpos address, dof address) of each free joint; its 7 and 6 slots hold the canonical layout instead.
        self._free = [(int(model.jnt_qposadr[j]), int(model.jnt_dofadr[j])) for j in free]
        self.quaternion_starts = tuple(a for a, _ in self._free)
        self.position_names, self.velocity_names = _coordinate_names(model)
        self.actuator_names = [
            mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_ACTUATOR, i) or f"actuator{i}" for i in range(model.nu)
        ]
        #: Each actuator's gain (B's column is moment arm · gain; 0 without authority), as the actuation model reads it.
        self.gain = np.asarray(authority(mujoco, model, list(range(model.nu)), []), dtype=np.float64)
        limited = model.actuator_ctrllimited.astype(bool)
        self.u_limit = np.where(limited, np.abs(model.actuator_ctrlrange).max(axis=1), np.inf)
        self.b = self._force_to_canonical(model.dof_damping.copy(), None)
        self.angle_mask = np.zeros(model.nq, dtype=bool)
        self.angle_mask[model.jnt_qposadr[model.jnt_type == _HINGE]] = True
        self.q_rest = self._q_to_canonical(model.qpos0.copy())
        self.upright = self.q_rest.copy()
        self._pe0 = 0.0
        self._pe0 = float(self._potential(self.q_rest[None])[0])

    @classmethod
    def from_xml_string(cls, text: str, name: str, assets: dict | None = None) -> MujocoPlant:
        return cls(load_string(text, name, assets), name)

    @classmethod
    def from_file(
        cls, path: str | Path, name: str | None = None, base: str = "auto", actuators: list | None = None
    ) -> MujocoPlant:
        """An MJCF file; `base` "fixed" removes top-level free joints, "floating" frees jointless top bodies;
        `actuators` (the actuation model's, when it assumes them) replace the file's."""
        path = Path(path)
        spec = spec_file(path)
        for body in spec.worldbody.bodies:
            joints = body.joints
            if base == "fixed":
                for joint in joints:
                    if joint.type == mujoco.mjtJoint.mjJNT_FREE:
                        spec.delete(joint)
            elif base == "floating" and not joints:
                body.add_freejoint()
        plant_warnings: list[str] = []
        if actuators is not None:
            for actuator in list(spec.actuators):
                spec.delete(actuator)
            add_actuators(spec, actuators, plant_warnings)
        plant = cls.from_spec(spec, name or path.stem)
        plant.warnings = plant_warnings
        return plant

    @classmethod
    def from_spec(cls, spec: mujoco.MjSpec, name: str) -> MujocoPlant:
        return cls(compile_spec(spec, name), name)

    def _moment(self) -> np.ndarray:
        """Dense actuator moment matrix (nu, nv) for the current state."""
        m, d = self.model, self.data
        dense = np.zeros((m.nu, m.nv))
        if m.nu:
            mujoco.mju_sparse2dense(dense, d.actuator_moment, d.moment_rownnz, d.moment_rowadr, d.moment_colind)
        return dense

    # --- the floating-base map (identity for models without free joints) ---------------------------------
    def _q_to_canonical(self, qpos: np.ndarray) -> np.ndarray:
        q = qpos.copy()
        for a, _ in self._free:
            q[a : a + 4], q[a + 4 : a + 7] = qpos[a + 3 : a + 7], qpos[a : a + 3]
        return q

    def to_engine(self, q: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """MuJoCo's qpos, qvel for one canonical state, and each free body's rotation R (body to world)."""
        qpos, qvel, rotations = q.copy(), v.copy(), []
        for a, d in self._free:
            quat = q[a : a + 4] / np.linalg.norm(q[a : a + 4])
            R = quat_to_rot(quat)
            qpos[a : a + 3], qpos[a + 3 : a + 7] = q[a + 4 : a + 7], quat
            qvel[d : d + 3], qvel[d + 3 : d + 6] = v[d + 3 : d + 6], R.T @ v[d : d + 3]
            rotations.append(R)
        return qpos, qvel, rotations

    def _force_to_canonical(self, x: np.ndarray, rotations: list[np.ndarray] | None) -> np.ndarray:
        """Jᵀ x along the first axis: a generalized force (or the rows of a matrix) from MuJoCo's coordinates.

        Without rotations (damping coefficients) the free joint's two triples are only swapped."""
        for k, (_, d) in enumerate(self._free):
            linear, angular = x[d : d + 3].copy(), x[d + 3 : d + 6].copy()
            x[d : d + 3] = angular if rotations is None else rotations[k] @ angular
            x[d + 3 : d + 6] = linear
        return x

    def _terms(self, q, v):
        m, d = self.model, self.data
        n = len(q)
        M = np.empty((n, m.nv, m.nv))
        Cv = np.empty((n, m.nv))
        tau_g = np.empty((n, m.nv))
        B = np.empty((n, m.nv, m.nu))
        gravity = np.empty(m.nv)
        for i in range(n):
            d.qpos[:], d.qvel[:], rotations = self.to_engine(q[i], v[i])
            mujoco.mj_fwdPosition(m, d)  # M, moments: mj_forward's first stages, without its actuation,
            mujoco.mj_fwdVelocity(m, d)  # acceleration and constraint solve, which the terms do not use
            mujoco.mj_fullM(m, d, M[i])
            B[i] = self._moment().T * self.gain
            bias = d.qfrc_bias.copy()  # C v − τg
            d.qvel[:] = 0.0
            d.cvel[:] = 0.0  # RNE reads the body velocities (and cdof_dot · qvel, now zero)
            mujoco.mj_rne(m, d, 0, gravity)  # −τg
            tau_g[i] = -gravity
            Cv[i] = bias - gravity
            if self._free:  # M' = Jᵀ M J, and Jᵀ on every force
                M[i] = self._force_to_canonical(self._force_to_canonical(M[i], rotations).T.copy(), rotations)
                for x in (B[i], Cv[i], tau_g[i]):
                    x[:] = self._force_to_canonical(x, rotations)
        return ManipulatorTerms(M, Cv, tau_g, B)

    def _coriolis(self, q, v):
        """C = ½ ∂(Cv)/∂v from MuJoCo's analytic derivative of RNE (`qDeriv` = −∂qfrc_bias/∂qvel, which the
        implicit integrator computes; stepped on a copy with actuation, passive forces and constraints off),
        mapped by Jᵀ · J to the project's coordinates, plus the free-body term
        (`underact.terms.coriolis_from_bias_derivative`)."""
        from underact.terms import coriolis_from_bias_derivative

        m, d, rows, cols = self._derivative_model()
        n = len(q)
        dCv = np.zeros((n, m.nv, m.nv))
        for i in range(n):
            d.qpos[:], d.qvel[:], rotations = self.to_engine(q[i], v[i])
            with warnings.catch_warnings():  # what the step says about its accelerations is not about C
                warnings.simplefilter("ignore", RuntimeWarning)
                mujoco.mj_step(m, d)  # qDeriv holds the derivative at the state before the step
            dCv[i][rows, cols] = -d.qDeriv
            if self._free:  # Jᵀ K J
                dCv[i] = self._force_to_canonical(self._force_to_canonical(dCv[i], rotations).T.copy(), rotations).T
        M = self._terms(q, v).M if self._free else None
        return coriolis_from_bias_derivative(dCv, M, v, [d for _, d in self._free])

    def _derivative_model(self):
        """A copy of the model set up so that `mj_step` leaves −∂(C v)/∂qvel in `qDeriv`, with the dense indices
        of `qDeriv`'s entries (made once); ball joints (velocities in the body frame) are refused in one line."""
        if getattr(self, "_deriv", None) is None:
            m = self.model
            if np.any(m.jnt_type == _BALL):
                raise UnderactError(f"{self.name} (mujoco): C is given for joint coordinates and free bodies; "
                                    "ball joints (ω in the body frame) are neither")
            m = copy.copy(m)
            m.opt.integrator = int(mujoco.mjtIntegrator.mjINT_IMPLICIT)  # implicitfast drops the RNE derivative
            off = mujoco.mjtDisableBit
            for bit in (off.mjDSBL_ACTUATION, off.mjDSBL_DAMPER, off.mjDSBL_SPRING, off.mjDSBL_CONSTRAINT,
                        off.mjDSBL_SENSOR, off.mjDSBL_AUTORESET):  # no reset to qpos0 on a large state
                m.opt.disableflags |= int(bit)
            m.opt.density = m.opt.viscosity = 0.0  # fluid forces would add their own velocity derivative
            rows = np.repeat(np.arange(m.nv), m.D_rownnz)
            entries = np.concatenate([np.arange(a, a + k) for a, k in zip(m.D_rowadr, m.D_rownnz, strict=True)] or [[]])
            order = np.argsort(entries.astype(np.int64))  # qDeriv's entries in storage order
            self._deriv = (m, mujoco.MjData(m), rows[order], m.D_colind[entries.astype(np.int64)][order])
        return self._deriv

    def _potential(self, q):
        m, d = self.model, self.data
        out = np.empty(len(q))
        for i in range(len(q)):
            d.qpos[:] = self.to_engine(q[i], np.zeros(self.nv))[0]
            mujoco.mj_kinematics(m, d)
            mujoco.mj_comPos(m, d)
            mujoco.mj_energyPos(m, d)
            out[i] = d.energy[0]
        return out - self._pe0

    def position_limits(self):
        m = self.model
        lo, hi = np.full(m.nq, -np.inf), np.full(m.nq, np.inf)
        for j in np.flatnonzero(m.jnt_limited.astype(bool) & (m.jnt_type >= 2)):  # slide and hinge
            lo[m.jnt_qposadr[j]], hi[m.jnt_qposadr[j]] = m.jnt_range[j]
        return lo, hi

    def random_q(self, rng, n):
        q = super().random_q(rng, n)
        for adr in self.model.jnt_qposadr[self.model.jnt_type == _BALL]:
            quat = rng.normal(size=(n, 4))
            q[:, adr : adr + 4] = quat / np.linalg.norm(quat, axis=1, keepdims=True)
        return q


def add_actuators(spec: mujoco.MjSpec, actuators: list, warnings: list[str], dofs: dict[str, int] | None = None
                  ) -> None:
    """The actuation model's actuators (`underact.description.actuation`) on MuJoCo: one joint as a joint
    transmission with gear = gain · reduction; several joints as a fixed tendon with the reductions as
    coefficients; `dofs` gives each joint's count of coordinates (a URDF planar joint is three one-DoF joints in
    MuJoCo, `underact.plants.files.coordinate_name`). One MuJoCo cannot take (a floating base) is named in one
    warning and left out."""
    from underact.plants.files import coordinate_name

    dofs = dofs or {}
    one_dof = {j.name for j in spec.joints if j.type in (mujoco.mjtJoint.mjJNT_HINGE, mujoco.mjtJoint.mjJNT_SLIDE)}
    used: set[str] = set()
    dropped = []
    for actuator in actuators:
        named = {(joint, axis): coordinate_name(joint, axis, dofs.get(joint, 1), one_dof)
                 for joint, axis in actuator.column}
        if None in named.values():
            dropped.append(actuator.name)
            continue
        column = {(named[key], 0): value for key, value in actuator.column.items()}
        name = actuator.name
        while name in used:  # MuJoCo needs unique names
            name += "_"
        used.add(name)
        limited = actuator.effort is not None and np.isfinite(actuator.effort) and actuator.effort > 0
        limits = {"ctrllimited": 1 if limited else 0,
                  "ctrlrange": [-actuator.effort, actuator.effort] if limited else [0, 0]}
        if len(column) == 1:
            (joint, _), value = next(iter(column.items()))
            spec.add_actuator(name=name, target=joint, trntype=mujoco.mjtTrn.mjTRN_JOINT,
                              gear=[value, 0, 0, 0, 0, 0], **limits)
            continue
        tendon = spec.add_tendon(name=f"{name}_coupling")
        for (joint, _), value in column.items():
            tendon.wrap_joint(joint, value)
        spec.add_actuator(name=name, target=tendon.name, trntype=mujoco.mjtTrn.mjTRN_TENDON,
                          gear=[1, 0, 0, 0, 0, 0], **limits)
    if dropped:
        warnings.append(f"MuJoCo cannot represent {len(dropped)} actuator(s) on a floating base or multi-DoF joint "
                        f"coordinate ({', '.join(repr(n) for n in dropped[:3])}); left out of B")


def _coordinate_names(m: mujoco.MjModel) -> tuple[list[str], list[str]]:
    """Position and velocity names: a free joint is named after its body (as Drake names a floating base)."""
    positions, velocities = [], []
    for j in range(m.njnt):
        kind = int(m.jnt_type[j])
        if kind == _FREE:
            body = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_BODY, int(m.jnt_bodyid[j])) or f"body{m.jnt_bodyid[j]}"
            positions += [f"{body}_{s}" for s in FREE_Q]
            velocities += [f"{body}_{s}" for s in FREE_V]
            continue
        name = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_JOINT, j) or f"joint{j}"
        if kind == _BALL:
            positions += [f"{name}_{s}" for s in ("qw", "qx", "qy", "qz")]
            velocities += [f"{name}_{s}" for s in ("wx", "wy", "wz")]
        else:
            positions.append(name)
            velocities.append(name)
    return positions, velocities

