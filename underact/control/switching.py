"""Swing-up and balance: the swing-up controller until the LQR's cost-to-go drops below a threshold.

The switch is a function of the state alone (x̃ᵀSx̃ < threshold), so the controller holds no hidden mode: every
engine, the error-controlled Drake integrator with its trial steps included, sees the same map x ↦ u, and the
switch time of a recorded trajectory is recovered with `balancing(q, v)`.
"""

from __future__ import annotations

import numpy as np

from underact.control.lqr import LQRController, saturate
from underact.plants.base import Plant


class SwingUpAndBalance:
    """u = LQR(x) where x̃ᵀSx̃ < threshold, else swing_up(x); both saturated at the LQR's limit."""

    def __init__(self, swing_up, lqr: LQRController, threshold: float):
        self.swing_up = swing_up
        self.lqr = lqr
        self.threshold = float(threshold)

    def balancing(self, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        """True (…) where the LQR is in charge."""
        return self.lqr.cost(q, v) < self.threshold

    def __call__(self, t: float, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        q2, v2 = np.atleast_2d(q), np.atleast_2d(v)
        inside = self.balancing(q2, v2)
        u = np.empty((len(q2), self.lqr.plant.nu))
        if inside.any():
            u[inside] = self.lqr(t, q2[inside], v2[inside])
        if not inside.all():
            u[~inside] = self.swing_up(t, q2[~inside], v2[~inside])
        u = saturate(u, self.lqr.u_limit)
        return u[0] if np.ndim(q) == 1 else u


def swing_up_and_balance(plant: Plant, threshold: float | None = None) -> SwingUpAndBalance:
    """The system's swing-up and its switch to LQR, both from its record (`underact.systems`: `swing_up`, and
    `switch`, the cost-to-go tuned for it)."""
    from underact import systems

    with_swing_up = [n for n in systems.names() if systems.get(n).swing_up is not None]
    if plant.name not in with_swing_up:
        raise ValueError(f"no swing-up controller for {plant.name!r}; expected one of {', '.join(with_swing_up)}")
    system, limit = systems.get(plant.name), plant.u_limit
    return SwingUpAndBalance(
        system.swing_up(plant, limit),
        LQRController(plant, u_limit=limit, **system.lqr),
        system.switch if threshold is None else threshold,
    )
