"""Divergence: one rule and one error for every simulator and environment, whatever the engine.

A state has diverged when a coordinate, velocity or acceleration is NaN, infinite or larger in magnitude than
`MAX_STATE` (MuJoCo's `mjMAXVAL`, the bound MuJoCo checks qpos, qvel and qacc against), when MuJoCo flags a bad
qpos, qvel or qacc during a step, or when Drake's integrator gives up. Each case raises `DivergenceError` with one
line naming the backend, the system, the time and step, and the last good state; nothing resets on its own.
"""

from __future__ import annotations

import numpy as np

from underact.errors import DivergenceError

#: Largest magnitude of any state or acceleration entry (rad, m, rad/s, m/s, rad/s², m/s²) before it counts as
#: diverged; equal to MuJoCo's `mjMAXVAL`, so all three backends draw the line at the same place.
MAX_STATE = 1e10

#: Why a state failed `bounded`, as the error message says it.
OUT_OF_BOUNDS = f"the state or acceleration is NaN, infinite or beyond ±{MAX_STATE:g}"


def bounded(*arrays: np.ndarray) -> bool:
    """True when every entry of every array is finite and at most MAX_STATE in magnitude (one reduction each)."""
    return all(np.abs(a).max(initial=0.0) <= MAX_STATE for a in arrays)  # a NaN maximum fails the comparison


def first_unbounded(*arrays: np.ndarray) -> int:
    """The first batch index (leading axis) where any of the (N, …) arrays fails `bounded`, or -1."""
    bad = np.zeros(len(arrays[0]), dtype=bool)
    for a in arrays:
        bad |= ~np.all(np.abs(np.reshape(a, (len(a), -1))) <= MAX_STATE, axis=1)
    return int(np.flatnonzero(bad)[0]) if bad.any() else -1


def _vector(x) -> str:
    return "[" + ", ".join(f"{float(c):.6g}" for c in np.ravel(x)) + "]"


def divergence(backend: str, system: str, t: float, step: int, q, v, why: str) -> DivergenceError:
    """The one-line error: `backend: system diverged at t = … s (step k) from q = […], v = […]: why`."""
    return DivergenceError(
        f"{backend}: {system} diverged at t = {t:.6g} s (step {step}) from q = {_vector(q)}, v = {_vector(v)}: {why}"
    )
