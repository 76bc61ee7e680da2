"""Fixed-step RK4 on the plant's forward dynamics, batched over initial states, input held over each step."""

from __future__ import annotations

import numpy as np

from underact.plants.base import Plant


def rk4_rollout(plant: Plant, controller, q0, v0, duration: float, dt: float = 1e-3, record_every: int = 10):
    """Simulates N copies at once: q0 (N, nq), v0 (N, nv) → t (T,), q (T, N, nq), v (T, N, nv), u (T, N, nu).

    The controller is called once per step on the whole batch (zero-order hold); samples are taken every
    `record_every` steps, the first at t = 0 and the last at `duration`.
    """
    if plant.nq != plant.nv:
        raise ValueError(f"{plant.name}: RK4 on (q, v) needs nq == nv")
    q = np.array(q0, dtype=np.float64, ndmin=2)
    v = np.array(v0, dtype=np.float64, ndmin=2)
    steps = int(round(duration / dt))
    n_rec = steps // record_every + 1
    ts = np.arange(n_rec) * dt * record_every
    Q = np.empty((n_rec, *q.shape))
    V = np.empty((n_rec, *v.shape))
    U = np.empty((n_rec, len(q), plant.nu))
    for k in range(steps + 1):
        u = np.asarray(controller(k * dt, q, v), dtype=np.float64)
        if k % record_every == 0:
            i = k // record_every
            Q[i], V[i], U[i] = q, v, u
        if k == steps:
            break
        a1 = plant.vdot(q, v, u)
        a2 = plant.vdot(q + 0.5 * dt * v, v + 0.5 * dt * a1, u)
        v2 = v + 0.5 * dt * a1
        a3 = plant.vdot(q + 0.5 * dt * v2, v + 0.5 * dt * a2, u)
        v3 = v + 0.5 * dt * a2
        a4 = plant.vdot(q + dt * v3, v + dt * a3, u)
        v4 = v + dt * a3
        q = q + dt / 6 * (v + 2 * v2 + 2 * v3 + v4)
        v = v + dt / 6 * (a1 + 2 * a2 + 2 * a3 + a4)
    return ts, Q, V, U
