"""The plant protocol: every source of dynamics answers `terms(q, v)` in the same convention.

    M(q) v̇ + C(q, v) v = τg(q) + B(q) u + τ_damping(v)

`terms` returns M, Cv, τg and B (see `underact.terms.ManipulatorTerms`); joint damping is kept out of `Cv` and
returned by `damping(v)` as a generalized force on the right-hand side (−b v for viscous damping b). Everything
else (forward dynamics, energy, random states) is derived here from those terms, so the analyzer, controllers
and simulators read any backend the same way.

Floating bases (free bodies) have one convention on every backend, Drake's:

    q = [qw, qx, qy, qz, x, y, z]     unit quaternion of the body in the world, then its origin's position
    v = [ωx, ωy, ωz, vx, vy, vz]      angular velocity, then its origin's linear velocity, both in the world frame

named `<body>_qw … <body>_z` and `<body>_wx … <body>_vz`. MuJoCo's own free joint (q = [position, quaternion],
v = [linear in the world, angular in the body frame]) is mapped into it exactly; see `underact.plants.mujoco`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import partial

import numpy as np

from underact.errors import SingularMassMatrixError, UnderactError
from underact.terms import ManipulatorTerms

#: A floating base's position coordinates, in order, on every backend: unit quaternion, then position.
FLOATING_POSITION_ORDER = ("qw", "qx", "qy", "qz", "x", "y", "z")
#: A floating base's velocity coordinates, in order, on every backend, in `underact.description` (`(BASE, k)` is
#: the k-th of these) and on the 3-D page: angular velocity first, then linear, as Drake orders them.
#: MuJoCo's free joint is linear first; its plant and MJCF reader map it into this order.
FLOATING_VELOCITY_ORDER = ("wx", "wy", "wz", "vx", "vy", "vz")


def as_batch(x: np.ndarray | list[float], n: int, what: str) -> tuple[np.ndarray, bool]:
    """Returns x as a float64 (batch, n) array and whether the input was a single vector."""
    arr = np.asarray(x, dtype=np.float64)
    single = arr.ndim == 1
    arr = np.atleast_2d(arr)
    if arr.ndim != 2 or arr.shape[-1] != n:
        raise ValueError(f"{what} must have shape ({n},) or (batch, {n}); got {np.shape(x)}")
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise UnderactError(f"{what} must be finite; got {arr[tuple(bad)]} at index {bad[-1]}")
    return arr, single


class Plant(ABC):
    """A mechanical system in manipulator form. Subclasses set the attributes and implement `_terms`."""

    name: str
    backend: str
    nq: int
    nv: int
    nu: int
    #: One name per velocity coordinate and per actuator, in order.
    velocity_names: list[str]
    actuator_names: list[str]
    #: Viscous joint damping per velocity (N·m·s or N·s); `damping(v) = -b * v`.
    b: np.ndarray
    #: Symmetric actuator limit |u_i| ≤ u_limit[i] (inf where unlimited).
    u_limit: np.ndarray
    #: The default equilibrium for analysis and balance control (upright for the built-ins, q = 0 otherwise).
    upright: np.ndarray
    #: The hanging-down rest configuration.
    q_rest: np.ndarray
    #: True for each position coordinate that is an angle of a revolute/hinge joint (wraps modulo 2π).
    angle_mask: np.ndarray
    #: Index in q of each free body's unit quaternion (qw, qx, qy, qz), followed by its position (x, y, z).
    quaternion_starts: tuple[int, ...] = ()
    #: What loading had to assume or change (shown by the CLI).
    warnings: tuple[str, ...] | list[str] = ()
    #: One name per position coordinate where nq ≠ nv or the names differ from `velocity_names` (else empty).
    position_names: tuple[str, ...] | list[str] = ()

    @abstractmethod
    def _terms(self, q: np.ndarray, v: np.ndarray) -> ManipulatorTerms:
        """Terms for a batch q (N, nq), v (N, nv)."""

    @abstractmethod
    def _potential(self, q: np.ndarray) -> np.ndarray:
        """Gravitational potential energy (N,) for a batch q (N, nq)."""

    def terms(self, q, v) -> ManipulatorTerms:
        """M (…, nv, nv), Cv (…, nv), τg (…, nv), B (…, nv, nu) at one state or a batch (leading axis)."""
        qb, single = as_batch(q, self.nq, "q")
        vb, _ = as_batch(v, self.nv, "v")
        if len(qb) != len(vb):
            raise ValueError(f"q and v must have the same batch size; got {len(qb)} and {len(vb)}")
        t = self._terms(qb, vb)
        coriolis = partial(self._coriolis_checked, qb.copy(), vb.copy(), single)  # C is computed when first read
        if single:
            return ManipulatorTerms(t.M[0], t.Cv[0], t.tau_g[0], t.B[0], coriolis)
        return ManipulatorTerms(t.M, t.Cv, t.tau_g, t.B, coriolis)

    def coriolis(self, q, v) -> np.ndarray:
        """The Coriolis matrix C(q, v) (…, nv, nv), batched like `terms`: C v = Cv, and Ṁ − 2C is skew-symmetric
        (the Christoffel form for joint coordinates, the spatial-algebra form for free bodies; docs/concepts.md)."""
        qb, single = as_batch(q, self.nq, "q")
        vb, _ = as_batch(v, self.nv, "v")
        if len(qb) != len(vb):
            raise ValueError(f"q and v must have the same batch size; got {len(qb)} and {len(vb)}")
        return self._coriolis_checked(qb, vb, single)

    def _coriolis_checked(self, q: np.ndarray, v: np.ndarray, single: bool) -> np.ndarray:
        C = self._coriolis(q, v)
        return C[0] if single else C

    def _coriolis(self, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        """C for a batch q (N, nq), v (N, nv); backends that cannot give it say why."""
        raise UnderactError(f"{self.name} ({self.backend}): this backend does not give the Coriolis matrix C")

    def damping(self, v) -> np.ndarray:
        """Joint damping as a generalized force on the right-hand side: −b ⊙ v (not included in `Cv`)."""
        return -self.b * np.asarray(v, dtype=np.float64)

    def vdot(self, q, v, u) -> np.ndarray:
        """Forward dynamics v̇ = M⁻¹(τg − Cv + damping(v) + B u), batched like `terms`."""
        t = self.terms(q, v)
        u = np.asarray(u, dtype=np.float64)
        u = np.broadcast_to(u, t.B.shape[:-2] + (self.nu,))
        rhs = t.tau_g - t.Cv + self.damping(v) + np.einsum("...ij,...j->...i", t.B, u)
        return solve_mass(self, t.M, rhs[..., None], q)[..., 0]

    def qdot(self, q, v) -> np.ndarray:
        """Time derivative of the positions: v, except for free bodies' quaternions, q̇ = ½ (0, ω) ⊗ q."""
        v = np.asarray(v, dtype=np.float64)
        if self.nq == self.nv:
            return v.copy()
        if self.nq != self.nv + len(self.quaternion_starts):
            raise NotImplementedError(f"{self.backend} plant {self.name!r}: q̇ for its joints is the engine's map")
        q = np.asarray(q, dtype=np.float64)
        out = np.empty(q.shape)
        iq = iv = 0
        for s in self.quaternion_starts:  # 1-DoF joints before this free body copy v; then ω → q̇_quat, v → ṗ
            n = s - iq
            out[..., iq : iq + n] = v[..., iv : iv + n]
            iq, iv = s, iv + n
            w, quat = v[..., iv : iv + 3], q[..., s : s + 4]
            out[..., s : s + 4] = 0.5 * quat_mul(np.concatenate([np.zeros(w.shape[:-1] + (1,)), w], -1), quat)
            out[..., s + 4 : s + 7] = v[..., iv + 3 : iv + 6]
            iq, iv = s + 7, iv + 6
        out[..., iq:] = v[..., iv:]
        return out

    def potential(self, q) -> np.ndarray:
        """Gravitational potential energy, zero at q = 0 for the built-ins."""
        qb, single = as_batch(q, self.nq, "q")
        pe = self._potential(qb)
        return pe[0] if single else pe

    def kinetic(self, q, v) -> np.ndarray:
        """½ vᵀ M(q) v."""
        t = self.terms(q, v)
        v = np.asarray(v, dtype=np.float64)
        return 0.5 * np.einsum("...i,...ij,...j->...", v, t.M, v)

    def energy(self, q, v) -> np.ndarray:
        """Total mechanical energy (kinetic + gravitational potential)."""
        return self.kinetic(q, v) + self.potential(q)

    def random_q(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n random configurations (n, nq): each coordinate uniform over its limits, clipped to [−π, π]; each free
        body's quaternion uniform on the unit sphere (normalised Gaussian), its position uniform in [−1, 1]³."""
        lo, hi = self.position_limits()
        q = rng.uniform(np.clip(lo, -np.pi, np.pi), np.clip(hi, -np.pi, np.pi), size=(n, self.nq))
        for s in self.quaternion_starts:
            quat = rng.normal(size=(n, 4))
            q[:, s : s + 4] = quat / np.linalg.norm(quat, axis=1, keepdims=True)
            q[:, s + 4 : s + 7] = rng.uniform(-1.0, 1.0, size=(n, 3))
        return q

    def position_limits(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper limits of each position coordinate (±inf where unlimited)."""
        return np.full(self.nq, -np.inf), np.full(self.nq, np.inf)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} backend={self.backend} nq={self.nq} nv={self.nv} nu={self.nu}>"


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of quaternions (w, x, y, z), batched over leading axes."""
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def quat_to_rot(quat: np.ndarray) -> np.ndarray:
    """Rotation matrices (…, 3, 3) of quaternions (…, 4) (w, x, y, z), normalised first."""
    w, x, y, z = np.moveaxis(quat / np.linalg.norm(quat, axis=-1, keepdims=True), -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        axis=-2,
    )


def solve_mass(plant: Plant, M: np.ndarray, rhs: np.ndarray, q=None) -> np.ndarray:
    """M⁻¹ rhs, or `SingularMassMatrixError` naming the plant and the first state where M is singular."""
    cond = np.linalg.cond(M) if M.size else np.zeros(M.shape[:-2])
    bad = ~np.isfinite(cond) | (cond > 1e14)
    if np.any(bad):
        index = np.unravel_index(int(np.argmax(bad)), bad.shape) if bad.ndim else ()
        where = ""
        if q is not None:
            qb = np.asarray(q, dtype=np.float64)
            where = f" at q = {np.round(qb[index] if qb.ndim > 1 else qb, 4).tolist()}"
        raise SingularMassMatrixError(
            f"{plant.name} ({plant.backend}): the mass matrix M is singular{where} (condition number "
            f"{float(np.atleast_1d(cond)[np.ravel_multi_index(index, bad.shape) if bad.ndim else 0]):.1e}); "
            "a body without mass or inertia moves freely (a massless floating base? try --base fixed)"
        )
    return np.linalg.solve(M, rhs)
