"""Closed-loop simulation on every backend: `simulate(plant, controller, q0, v0, duration)` → `Trajectory`.

Drake runs its `Simulator` with an error-controlled integrator, MuJoCo `mj_step` at 1 ms with RK4, the analytic
model a batched fixed-step RK4. A controller is any callable `u = controller(t, q, v)`. Engines are imported
only when their backend is simulated. A run that leaves the finite numbers raises `DivergenceError` on every
backend alike (`underact.simulate.divergence`): one line naming the backend, the time, the step and the state.
"""

from __future__ import annotations

import numpy as np

from underact.plants.base import Plant
from underact.simulate.trajectory import Trajectory, near_upright, summary, time_to_upright


def simulate(plant: Plant, controller, q0, v0, duration: float, record_dt: float = 0.01) -> Trajectory:
    """One closed-loop trajectory from (q0, v0), recorded every `record_dt` seconds on the plant's own engine."""
    if not duration > 0:
        raise ValueError(f"duration must be a positive number of seconds; got {duration}")
    if plant.backend == "drake":
        from underact.simulate.drake import simulate_drake

        return simulate_drake(plant, controller, q0, v0, duration, record_dt)
    if plant.backend == "mujoco":
        from underact.simulate.mujoco import simulate_mujoco

        return simulate_mujoco(plant, controller, q0, v0, duration, record_dt)
    from underact.simulate.analytic import rk4_rollout

    dt = 1e-3
    t, q, v, u = rk4_rollout(plant, controller, q0, v0, duration, dt, max(1, int(round(record_dt / dt))))
    return Trajectory(t, q[:, 0], v[:, 0], u[:, 0])


def initial_state(plant: Plant, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Hanging rest plus a uniform perturbation of at most 0.1 rad on each angle, drawn from `seed`; v = 0."""
    from underact.control.lqr import angle_mask

    rng = np.random.default_rng(seed)
    dq = rng.uniform(-0.1, 0.1, plant.nq) * angle_mask(plant)
    return plant.q_rest + dq, np.zeros(plant.nv)


__all__ = ["Trajectory", "initial_state", "near_upright", "simulate", "summary", "time_to_upright"]
