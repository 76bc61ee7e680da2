"""The pseudo-inverse controller u = f2⁺(q̈_d − f1), with f1 = M⁻¹(τg − Cv + damping) and f2 = M⁻¹B.

Fully actuated (rank f2 = nv): the achieved acceleration equals the desired one. Underactuated: u is the
least-squares solution of f2 u = q̈_d − f1 (it satisfies the normal equations f2ᵀ(f2 u − (q̈_d − f1)) = 0), and
`residual` holds the acceleration error f1 + f2 u − q̈_d the inputs could not remove. A singular or non-finite
M(q) (a massless body) raises `SingularMassMatrixError` naming the model and q; non-finite terms (an overflow
at a huge velocity) raise `DivergenceError`; the controller never returns a non-finite input.
"""

from __future__ import annotations

import numpy as np

from underact.analysis.linearize import check_mass_matrix
from underact.errors import DivergenceError
from underact.plants.base import Plant


class PseudoInverseController:
    """Inverse dynamics through the Moore–Penrose pseudo-inverse of f2; batched over states."""

    def __init__(self, plant: Plant, rcond: float = 1e-10):
        self.plant = plant
        self.rcond = rcond
        #: Acceleration error f1 + f2 u − q̈_d of the last `control` call (…, nv); zero when fully actuated.
        self.residual: np.ndarray | None = None

    def control(self, q, v, qdd_desired) -> np.ndarray:
        """u (…, nu) for the desired accelerations q̈_d (…, nv)."""
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
        self.residual = np.einsum("...ij,...j->...i", f2, u) - target
        return u

    def __call__(self, q, v, qdd_desired) -> np.ndarray:
        return self.control(q, v, qdd_desired)
