"""Trajectory tracking through the core's pseudo-inverse controller, with the residual it leaves.

The desired acceleration is the reference's plus PD feedback, q̈_d = q̈_r + kp (q_r − q) + kd (q̇_r − q̇), and
`PseudoInverseController` returns the least-squares input. On a fully actuated plant the residual is zero and
the reference is tracked; on an underactuated one `residual(t, q, v)` (the same method as the pseudo-inverse
controller's) is the acceleration error f1 + f2 u − q̈_d that no input can remove (Tedrake, "Underactuated
Robotics", ch. 1).
"""

from __future__ import annotations

import numpy as np

from underact.control.lqr import angle_mask, saturate, wrap_angles
from underact.control.pinv import PseudoInverseController
from underact.plants.base import Plant


class MinimumJerk:
    """q_r(t) from q_start to q_goal over `duration` seconds along 10τ³ − 15τ⁴ + 6τ⁵, then held."""

    def __init__(self, q_start, q_goal, duration: float):
        if not duration > 0:
            raise ValueError(f"duration must be positive; got {duration}")
        self.q_start = np.asarray(q_start, dtype=np.float64)
        self.delta = np.asarray(q_goal, dtype=np.float64) - self.q_start
        self.duration = float(duration)

    def __call__(self, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(q_r, q̇_r, q̈_r) at time t."""
        T = self.duration
        s = min(max(t / T, 0.0), 1.0)
        pos = 10 * s**3 - 15 * s**4 + 6 * s**5
        vel = (30 * s**2 - 60 * s**3 + 30 * s**4) / T if s < 1 else 0.0
        acc = (60 * s - 180 * s**2 + 120 * s**3) / T**2 if s < 1 else 0.0
        return self.q_start + pos * self.delta, vel * self.delta, acc * self.delta


class PseudoInverseTracking:
    """u = sat(f2⁺(q̈_d − f1)) with q̈_d = q̈_r + kp (q_r − q) + kd (q̇_r − q̇); callable as controller(t, q, v)."""

    def __init__(self, plant: Plant, reference, kp: float = 25.0, kd: float = 10.0):
        self.plant = plant
        self.reference = reference
        self.kp, self.kd = float(kp), float(kd)
        self._angles = angle_mask(plant)
        self.pinv = PseudoInverseController(plant, self.desired_acceleration)

    def desired_acceleration(self, t: float, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        q_r, qd_r, qdd_r = self.reference(t)
        err = wrap_angles(q_r - np.asarray(q, dtype=np.float64), self._angles)
        return qdd_r + self.kp * err + self.kd * (qd_r - np.asarray(v, dtype=np.float64))

    def residual(self, t: float, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Acceleration error f1 + f2 u − q̈_d (…, nv) of the unsaturated least-squares input."""
        return self.pinv.residual(t, q, v)

    def __call__(self, t: float, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        return saturate(self.pinv(t, q, v), self.plant.u_limit)
