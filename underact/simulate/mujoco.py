"""MuJoCo: `mj_step` on a copy of the plant's model at a small RK4 timestep, the input held over each step.

Every step goes through `underact.engines.mujoco`'s `prepare` and `step` (the environments step through
`MujocoStepper`): MuJoCo's own reaction to a blow-up is switched off there, and a divergence it reports raises
`DivergenceError` here (see `underact.simulate.divergence`); nothing resets.
"""

from __future__ import annotations

import copy

import numpy as np

from underact.engines.mujoco import mujoco, prepare, step
from underact.plants.base import Plant
from underact.simulate.divergence import OUT_OF_BOUNDS, bounded, divergence
from underact.simulate.trajectory import Trajectory


def simulate_mujoco(
    plant: Plant, controller, q0, v0, duration: float, record_dt: float = 0.01, dt: float = 1e-3
) -> Trajectory:
    """Steps a copy of `plant.model` (timestep dt, RK4); the controller is called once per step."""
    model = copy.deepcopy(plant.model)
    model.opt.timestep = dt
    model.opt.integrator = int(mujoco.mjtIntegrator.mjINT_RK4)
    data = mujoco.MjData(model)
    prepare(model, data)
    data.qpos[:] = q0
    data.qvel[:] = v0
    every = max(1, int(round(record_dt / dt)))
    steps = int(round(duration / dt))
    n_rec = steps // every + 1
    t = np.arange(n_rec) * every * dt
    q, v, u = np.empty((n_rec, model.nq)), np.empty((n_rec, model.nv)), np.empty((n_rec, model.nu))
    if not bounded(data.qpos, data.qvel):
        raise divergence("mujoco", plant.name, 0.0, 0, data.qpos, data.qvel, OUT_OF_BOUNDS)
    for k in range(steps + 1):
        q_now, v_now = data.qpos.copy(), data.qvel.copy()
        data.ctrl[:] = controller(k * dt, q_now, v_now)
        if k % every == 0:
            i = k // every
            q[i], v[i], u[i] = q_now, v_now, data.ctrl
        if k < steps:
            why = step(model, data)
            if why is not None:
                raise divergence("mujoco", plant.name, k * dt, k, q_now, v_now, why)
    return Trajectory(t, q, v, u)


class MujocoStepper:
    """One environment step of a MuJoCo plant: `substeps` calls of `mj_step` at timestep dt / substeps with the
    RK4 integrator, the control held (on the plant's own model and data, prepared by `prepare`)."""

    def __init__(self, plant: Plant, dt: float, substeps: int):
        self.plant, self.substeps = plant, substeps
        plant.model.opt.timestep = dt / substeps
        plant.model.opt.integrator = int(mujoco.mjtIntegrator.mjINT_RK4)
        prepare(plant.model, plant.data)

    def step(self, x: np.ndarray, force: float) -> tuple[np.ndarray, str | None]:
        """The state (q then v) after one step from x, and why it diverged (None if it did not)."""
        m, d = self.plant.model, self.plant.data
        d.qpos[:] = x[: m.nq]
        d.qvel[:] = x[m.nq :]
        d.ctrl[:] = force
        why = step(m, d, self.substeps)
        return np.concatenate([d.qpos, d.qvel]), why
