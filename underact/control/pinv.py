"""The pseudo-inverse controller u = f2⁺(q̈_d − f1), with f1 = M⁻¹(τg − Cv + damping) and f2 = M⁻¹B.

Fully actuated (rank f2 = nv): the achieved acceleration equals the desired one. Underactuated: u is the
least-squares solution of f2 u = q̈_d − f1 (it satisfies the normal equations f2ᵀ(f2 u − (q̈_d − f1)) = 0), and
`residual` holds the acceleration error f1 + f2 u − q̈_d the inputs could not remove.
"""

from __future__ import annotations

import numpy as np

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
        t = self.plant.terms(q, v)
        f1, f2 = t.f1_f2(self.plant.damping(v))
        target = np.asarray(qdd_desired, dtype=np.float64) - f1
        u = np.einsum("...ij,...j->...i", np.linalg.pinv(f2, rcond=self.rcond), target)
        self.residual = np.einsum("...ij,...j->...i", f2, u) - target
        return u

    def __call__(self, q, v, qdd_desired) -> np.ndarray:
        return self.control(q, v, qdd_desired)
