"""MuJoCo: `mj_step` on a copy of the plant's model at a small RK4 timestep, the input held over each step."""

from __future__ import annotations

import copy

import mujoco
import numpy as np

from underact.plants.base import Plant
from underact.simulate.trajectory import Trajectory


def simulate_mujoco(
    plant: Plant, controller, q0, v0, duration: float, record_dt: float = 0.01, dt: float = 1e-3
) -> Trajectory:
    """Steps a copy of `plant.model` (timestep dt, RK4); the controller is called once per step."""
    model = copy.deepcopy(plant.model)
    model.opt.timestep = dt
    model.opt.integrator = int(mujoco.mjtIntegrator.mjINT_RK4)
    data = mujoco.MjData(model)
    data.qpos[:] = q0
    data.qvel[:] = v0
    every = max(1, int(round(record_dt / dt)))
    steps = int(round(duration / dt))
    n_rec = steps // every + 1
    t = np.arange(n_rec) * every * dt
    q, v, u = np.empty((n_rec, model.nq)), np.empty((n_rec, model.nv)), np.empty((n_rec, model.nu))
    for k in range(steps + 1):
        data.ctrl[:] = controller(k * dt, data.qpos.copy(), data.qvel.copy())
        if k % every == 0:
            i = k // every
            q[i], v[i], u[i] = data.qpos, data.qvel, data.ctrl
        if k < steps:
            mujoco.mj_step(model, data)
    return Trajectory(t, q, v, u)
