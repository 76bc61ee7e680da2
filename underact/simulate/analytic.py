"""Fixed-step RK4 (`underact.simulate.rk4.rk4_step`) on the plant's forward dynamics, batched over initial states,
input held over each step."""

from __future__ import annotations

import numpy as np

from underact.errors import one_line
from underact.plants.base import Plant
from underact.simulate.divergence import OUT_OF_BOUNDS, bounded, divergence, first_unbounded
from underact.simulate.rk4 import rk4_step


def rk4_rollout(plant: Plant, controller, q0, v0, duration: float, dt: float = 1e-3, record_every: int = 10):
    """Simulates N copies at once: q0 (N, nq), v0 (N, nv) → t (T,), q (T, N, nq), v (T, N, nv), u (T, N, nu).

    The controller is called once per step on the whole batch (zero-order hold); samples are taken every
    `record_every` steps, the first at t = 0 and the last at `duration`. A state or acceleration leaving the
    finite range (see `underact.simulate.divergence`) raises `DivergenceError`.
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
    if not bounded(q, v):
        raise _diverged(plant, 0, dt, q, v, first_unbounded(q, v), OUT_OF_BOUNDS)
    with np.errstate(over="ignore", invalid="ignore"):  # a blow-up is reported as one DivergenceError
        for k in range(steps + 1):
            u = np.asarray(controller(k * dt, q, v), dtype=np.float64)
            if k % record_every == 0:
                i = k // record_every
                Q[i], V[i], U[i] = q, v, u
            if k == steps:
                break
            # Each stage's acceleration is checked before the next stage uses it, so no stage sees a non-finite state.
            q_next, v_next = rk4_step(lambda qs, vs: _stage(plant, qs, vs, u, k, dt, q, v), q, v, dt)  # noqa: B023
            if not bounded(q_next, v_next):
                raise _diverged(plant, k, dt, q, v, first_unbounded(q_next, v_next), OUT_OF_BOUNDS)
            q, v = q_next, v_next
    return ts, Q, V, U


def _stage(plant: Plant, qs: np.ndarray, vs: np.ndarray, u: np.ndarray, k: int, dt: float, q, v) -> np.ndarray:
    """v̇ at one RK4 stage (qs, vs) of step k from (q, v); a DivergenceError if it leaves the bounds."""
    try:
        a = plant.vdot(qs, vs, u)
    except SystemExit as exc:  # pydrake's failed asserts raise SystemExit
        raise _diverged(plant, k, dt, q, v, 0, f"Drake: {one_line(exc)}") from None
    if not bounded(a):
        raise _diverged(plant, k, dt, q, v, first_unbounded(a), OUT_OF_BOUNDS)
    return a


def _diverged(plant: Plant, k: int, dt: float, q: np.ndarray, v: np.ndarray, i: int, why: str):
    """The DivergenceError for step k, naming copy i of the batch (when there is more than one)."""
    i = max(i, 0)
    who = plant.name if len(q) == 1 else f"{plant.name} (copy {i})"
    return divergence(
        "analytic" if plant.backend == "analytic" else f"RK4 on {plant.backend}", who, k * dt, k, q[i], v[i], why
    )
