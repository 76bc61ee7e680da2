"""LQR balance about the plant's upright equilibrium, with angle wrapping and input saturation.

The gain comes from the plant's own linearisation (`underact.analysis.linearize`) and scipy's algebraic Riccati
equations, u = u0 − K x̃ with x̃ = (wrap(q − q*), v); `cost(q, v)` = x̃ᵀSx̃ is the cost-to-go used to decide when
the LQR takes over.

- `LQRController`, continuous time: S solves AᵀS + SA − SBR⁻¹BᵀS + Q = 0, K = R⁻¹BᵀS.
- `DiscreteLQRController`, sampled data (u held over each period dt, as an environment applies it): the exact
  zero-order-hold discretisation [A_d B_d; 0 I] = expm([A B; 0 0] dt), S solves the discrete Riccati equation
  S = A_dᵀSA_d − A_dᵀSB_d (R + B_dᵀSB_d)⁻¹ B_dᵀSA_d + Q, K = (R + B_dᵀSB_d)⁻¹ B_dᵀSA_d (as Drake's
  `DiscreteTimeLinearQuadraticRegulator`). A continuous-time gain applied at 20 Hz does not balance the acrobot.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import expm, solve_continuous_are, solve_discrete_are

from underact.analysis.linearize import equilibrium_input, linearize
from underact.plants.base import Plant


def angle_mask(plant: Plant) -> np.ndarray:
    """Boolean (nq,): True for revolute/hinge coordinates (the plant reads them from its engine)."""
    return plant.angle_mask


def wrap_angles(dq: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """dq with the entries marked in `mask` wrapped to [−π, π)."""
    return np.where(mask, (dq + np.pi) % (2 * np.pi) - np.pi, dq)


def saturate(u: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """Clip u to |u_i| ≤ limit_i."""
    return np.clip(u, -limit, limit)


class LQRController:
    """u = sat(u0 − K x̃) about (q*, 0); callable as `u = controller(t, q, v)`, batched over states."""

    def __init__(
        self,
        plant: Plant,
        Q: np.ndarray | None = None,
        R: np.ndarray | None = None,
        q_goal: np.ndarray | None = None,
        u_limit: float | np.ndarray | None = None,
    ):
        """Q defaults to diag(10 per position, 1 per velocity), R to identity, q_goal to `plant.upright`."""
        n = plant.nq
        self.plant = plant
        self.q_goal = np.asarray(plant.upright if q_goal is None else q_goal, dtype=np.float64)
        self.Q = np.diag([10.0] * n + [1.0] * n) if Q is None else np.asarray(Q, dtype=np.float64)
        self.R = np.eye(plant.nu) if R is None else np.atleast_2d(np.asarray(R, dtype=np.float64))
        if self.Q.shape != (2 * n, 2 * n) or self.R.shape != (plant.nu, plant.nu):
            raise ValueError(f"Q must be ({2 * n}, {2 * n}) and R ({plant.nu}, {plant.nu}) for {plant.name}")
        self.u0 = equilibrium_input(plant, self.q_goal)
        self.A, self.B = linearize(plant, self.q_goal, self.u0)
        self.S, self.K = self._riccati()
        self.u_limit = plant.u_limit if u_limit is None else np.broadcast_to(np.asarray(u_limit, float), (plant.nu,))
        self.angles = angle_mask(plant)

    def _riccati(self) -> tuple[np.ndarray, np.ndarray]:
        S = solve_continuous_are(self.A, self.B, self.Q, self.R)
        return S, np.linalg.solve(self.R, self.B.T @ S)

    def error(self, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        """x̃ (…, 2n): wrapped position error and velocity."""
        dq = wrap_angles(np.asarray(q, dtype=np.float64) - self.q_goal, self.angles)
        return np.concatenate([dq, np.asarray(v, dtype=np.float64)], axis=-1)

    def cost(self, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Cost-to-go x̃ᵀSx̃ (…)."""
        x = self.error(q, v)
        return np.einsum("...i,ij,...j->...", x, self.S, x)

    def __call__(self, t: float, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        x = self.error(q, v)
        return saturate(self.u0 - x @ self.K.T, self.u_limit)


def zero_order_hold(A: np.ndarray, B: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact discretisation of ẋ = Ax + Bu with u held over [t, t + dt): (A_d, B_d)."""
    n, m = B.shape
    block = np.zeros((n + m, n + m))
    block[:n, :n], block[:n, n:] = A, B
    E = expm(block * dt)
    return E[:n, :n], E[:n, n:]


class DiscreteLQRController(LQRController):
    """Sampled-data LQR for a controller that acts every `dt` seconds (zero-order hold); same call as LQRController."""

    def __init__(self, plant: Plant, dt: float, **kwargs):
        if not (np.isfinite(dt) and dt > 0):
            raise ValueError(f"dt must be a positive number of seconds; got {dt}")
        self.dt = float(dt)
        super().__init__(plant, **kwargs)

    def _riccati(self) -> tuple[np.ndarray, np.ndarray]:
        self.A_d, self.B_d = zero_order_hold(self.A, self.B, self.dt)
        S = solve_discrete_are(self.A_d, self.B_d, self.Q, self.R)
        BS = self.B_d.T @ S
        return S, np.linalg.solve(self.R + BS @ self.B_d, BS @ self.A_d)
