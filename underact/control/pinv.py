"""The pseudo-inverse controller u = f2⁺(q̈_d − f1), with f1 = M⁻¹(τg − Cv + damping) and f2 = M⁻¹B.

Fully actuated (rank f2 = nv): the achieved acceleration equals the desired one. Underactuated: u is the
least-squares solution of f2 u = q̈_d − f1 (it satisfies the normal equations f2ᵀ(f2 u − (q̈_d − f1)) = 0), and
`residual(t, q, v)` is the acceleration error f1 + f2 u − q̈_d the inputs could not remove (the same method as
on `PseudoInverseTracking`). A singular or non-finite M(q) (a massless body) raises `SingularMassMatrixError`
naming the model and q; non-finite terms (an overflow at a huge velocity) raise `DivergenceError`; the controller
never returns a non-finite input.

    controller = PseudoInverseController(plant, qdd_desired=lambda t, q, v: -4.0 * q - 2.0 * v)
    traj = simulate(plant, controller, q0, v0, 5.0)      # called (t, q, v), like every controller
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from underact.analysis.linearize import check_mass_matrix
from underact.errors import DivergenceError, UnderactError
from underact.plants.base import Plant


class PseudoInverseController:
    """u = f2⁺(q̈_d − f1), a controller `(t, q, v) -> u` like every other; batched over states.

    `qdd_desired` is the desired acceleration: a callable `(t, q, v) -> q̈_d (…, nv)` or a constant array
    (…, nv). `control(q, v, q̈_d)` is the explicit form for accelerations given directly, `solve` also returns
    the residual, and `residual(t, q, v)` is the acceleration error f1 + f2 u − q̈_d at a state (…, nv).
    """

    def __init__(
        self,
        plant: Plant,
        qdd_desired: Callable[[float, np.ndarray, np.ndarray], np.ndarray] | ArrayLike | None = None,
        rcond: float = 1e-10,
    ):
        self.plant = plant
        self.rcond = rcond
        if qdd_desired is not None and not callable(qdd_desired):
            qdd_desired = np.asarray(qdd_desired, dtype=np.float64)
            if qdd_desired.ndim == 0 or qdd_desired.shape[-1] != plant.nv:
                raise UnderactError(
                    f"qdd_desired must have {plant.nv} accelerations (nv of {plant.name}) in its last axis, "
                    f"got shape {qdd_desired.shape}"
                )
        self.qdd_desired = qdd_desired

    def desired(self, t: float, q, v) -> np.ndarray:
        """q̈_d at time t and state (q, v)."""
        if self.qdd_desired is None:
            raise UnderactError(
                "this PseudoInverseController has no qdd_desired: give one (a callable (t, q, v) or an array), "
                "or call .control(q, v, qdd_desired)"
            )
        if callable(self.qdd_desired):
            q, v = np.asarray(q, dtype=np.float64), np.asarray(v, dtype=np.float64)
            return np.asarray(self.qdd_desired(t, q, v), dtype=np.float64)
        return self.qdd_desired

    def solve(self, q, v, qdd_desired) -> tuple[np.ndarray, np.ndarray]:
        """(u (…, nu), residual f1 + f2 u − q̈_d (…, nv)) for the desired accelerations q̈_d (…, nv)."""
        qb, vb = np.asarray(q, dtype=np.float64), np.asarray(v, dtype=np.float64)
        t = self.plant.terms(qb, vb)
        check_mass_matrix(self.plant, qb, t.M)
        f1, f2 = t.f1_f2(self.plant.damping(vb))
        target = np.asarray(qdd_desired, dtype=np.float64) - f1
        finite = (np.isfinite(target).all(axis=-1) & np.isfinite(f2).all(axis=(-2, -1))).reshape(-1)
        if not finite.all():
            i = int(np.argmin(finite))
            batch = target.shape[:-1]
            qi, vi = (np.broadcast_to(x, batch + x.shape[-1:]).reshape(len(finite), -1)[i].tolist() for x in (qb, vb))
            raise DivergenceError(
                f"{self.plant.name} ({self.plant.backend}): the pseudo-inverse input is not finite at q = {qi}, "
                f"v = {vi} (the terms or the desired accelerations overflow there)"
            )
        u = np.einsum("...ij,...j->...i", np.linalg.pinv(f2, rcond=self.rcond), target)
        return u, np.einsum("...ij,...j->...i", f2, u) - target

    def control(self, q, v, qdd_desired) -> np.ndarray:
        """u (…, nu) for the desired accelerations q̈_d (…, nv) given directly."""
        return self.solve(q, v, qdd_desired)[0]

    def residual(self, t: float, q, v) -> np.ndarray:
        """Acceleration error f1 + f2 u − q̈_d (…, nv) at (t, q, v); zero when fully actuated."""
        return self.solve(q, v, self.desired(t, q, v))[1]

    def __call__(self, t: float, q, v) -> np.ndarray:
        """u (…, nu) for `qdd_desired` at (t, q, v): pass the controller to `simulate` like any other."""
        return self.control(q, v, self.desired(t, q, v))
