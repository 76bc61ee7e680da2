"""The manipulator equation's terms, shared by every plant: M(q) v̇ + C(q, v) v = τg(q) + B(q) u.

Sign convention as in Tedrake, "Underactuated Robotics", ch. 1 (eq. 1.11): `Cv` is on the left, `tau_g` on the
right. Joint damping is *not* part of `Cv`; plants return it separately from `Plant.damping(v)` as a generalized
force on the right-hand side (so for viscous damping b, `damping(v) = -b * v`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ManipulatorTerms:
    """M (..., nv, nv), Cv (..., nv), tau_g (..., nv), B (..., nv, nu); float64, batched over leading axes."""

    M: np.ndarray
    Cv: np.ndarray
    tau_g: np.ndarray
    B: np.ndarray

    @property
    def nv(self) -> int:
        return self.M.shape[-1]

    @property
    def nu(self) -> int:
        return self.B.shape[-1]

    def f1_f2(self, damping: np.ndarray | float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Control-affine form v̇ = f1 + f2 u: f1 = M⁻¹(τg − Cv + damping), f2 = M⁻¹B."""
        rhs = self.tau_g - self.Cv + damping
        f1 = np.linalg.solve(self.M, rhs[..., None])[..., 0]
        f2 = np.linalg.solve(self.M, self.B)
        return f1, f2

    def as_dict(self) -> dict[str, list]:
        return {"M": self.M.tolist(), "Cv": self.Cv.tolist(), "tau_g": self.tau_g.tolist(), "B": self.B.tolist()}
