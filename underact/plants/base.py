"""The plant protocol: every source of dynamics answers `terms(q, v)` in the same convention.

    M(q) v̇ + C(q, v) v = τg(q) + B(q) u + τ_damping(v)

`terms` returns M, Cv, τg and B (see `underact.terms.ManipulatorTerms`); joint damping is kept out of `Cv` and
returned by `damping(v)` as a generalized force on the right-hand side (−b v for viscous damping b). Everything
else (forward dynamics, energy, random states) is derived here from those terms, so the analyzer, controllers
and simulators read any backend the same way.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from underact.terms import ManipulatorTerms


def as_batch(x: np.ndarray | list[float], n: int, what: str) -> tuple[np.ndarray, bool]:
    """Returns x as a float64 (batch, n) array and whether the input was a single vector."""
    arr = np.asarray(x, dtype=np.float64)
    single = arr.ndim == 1
    arr = np.atleast_2d(arr)
    if arr.ndim != 2 or arr.shape[-1] != n:
        raise ValueError(f"{what} must have shape ({n},) or (batch, {n}); got {np.shape(x)}")
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
        if single:
            return ManipulatorTerms(t.M[0], t.Cv[0], t.tau_g[0], t.B[0])
        return t

    def damping(self, v) -> np.ndarray:
        """Joint damping as a generalized force on the right-hand side: −b ⊙ v (not included in `Cv`)."""
        return -self.b * np.asarray(v, dtype=np.float64)

    def vdot(self, q, v, u) -> np.ndarray:
        """Forward dynamics v̇ = M⁻¹(τg − Cv + damping(v) + B u), batched like `terms`."""
        t = self.terms(q, v)
        u = np.asarray(u, dtype=np.float64)
        u = np.broadcast_to(u, t.B.shape[:-2] + (self.nu,))
        rhs = t.tau_g - t.Cv + self.damping(v) + np.einsum("...ij,...j->...i", t.B, u)
        return np.linalg.solve(t.M, rhs[..., None])[..., 0]

    def qdot(self, q, v) -> np.ndarray:
        """Time derivative of the positions; equal to v unless nq ≠ nv (quaternion floating bases)."""
        if self.nq != self.nv:
            raise NotImplementedError(f"{self.backend} plant {self.name!r} has nq != nv; use the engine's map")
        return np.asarray(v, dtype=np.float64)

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
        """n random configurations (n, nq): each coordinate uniform over its limits, clipped to [−π, π]."""
        return rng.uniform(-np.pi, np.pi, size=(n, self.nq))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} backend={self.backend} nq={self.nq} nv={self.nv} nu={self.nu}>"
