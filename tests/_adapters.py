"""Test-only ways to call the environments' compiled step (`underact.envs.packed`) on plain arrays.

The environments call the packed step on their own state layout; the tests compare it, in these forms, with its
numpy oracle (`packed.numpy_step`), with the plant's RK4 and with itself on other thread counts.
"""

from __future__ import annotations

import numpy as np

from underact.envs import packed
from underact.envs.task import Task


def step_batch(task: Task, x, u, gain, done, steps, max_steps: int, key, episodes, threads=None, limit=None) -> tuple:
    """The packed step on separate arrays (the form of its oracle `packed.numpy_step`): x (4, N); done, steps,
    episodes (N,) each. Returns (x (4, N), obs, reward, terminated, truncated, steps, done, episodes, flags,
    flagged), new arrays; the inputs are not changed."""
    n = x.shape[1]
    counts = np.zeros((4, n), np.int64)
    counts[packed.STEPS], counts[packed.EPISODES], counts[packed.DONE] = steps, episodes, done
    out, counts_out = np.empty((4, n)), np.empty((4, n), np.int64)
    constants = packed.batch_constants(task, gain, max_steps, key, limit)
    obs, reward, terminated, truncated, flagged = packed.PackedStep(task).run(
        constants, x, counts, u, out, counts_out, threads
    )
    flags = counts_out[packed.FLAGS].astype(np.uint8)
    steps_out, episodes_out = counts_out[packed.STEPS], counts_out[packed.EPISODES]
    done_out = counts_out[packed.DONE].astype(bool)
    return out, obs, reward, terminated, truncated, steps_out, done_out, episodes_out, flags, flagged


def step_all(task: Task, x: np.ndarray, force: np.ndarray, threads: int | None = None) -> tuple:
    """RK4, observation and outcome of every state x (N, 4) under forces (N,) as given (no clipping), compiled:
    (next states (N, 4), observations, rewards, terminations)."""
    n = len(x)
    u = np.ascontiguousarray(np.asarray(force, dtype=np.float64).reshape(n, 1))
    done, steps = np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.int64)
    columns = np.ascontiguousarray(np.asarray(x, dtype=np.float64).T)
    out, obs, reward, terminated = step_batch(task, columns, u, 1.0, done, steps, -1, 0, steps, threads, np.inf)[:4]
    return np.ascontiguousarray(out.T), obs, reward, terminated


def step_one(task: Task, x: np.ndarray, force: float) -> tuple:
    """One compiled step of one state (shared parameters): next state (4,), observation, reward, terminated."""
    out = np.empty(4)
    x = np.ascontiguousarray(x, dtype=np.float64)
    obs, reward, terminated, _ = packed.kernels(task).one(x, float(force), *packed.one_constants(task), out)
    return out, obs, reward, terminated
