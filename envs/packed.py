"""The environments' compiled step and its numpy oracle: RK4, observation, outcome and autoreset fused per system.

One system's kernels (`system_kernels`: `fused_kernels` around its closed form and its task's `observe` and
`outcome`) serve every environment on it: `Kernels.batch`, the vector environments' whole step on the packed
state (states as columns x (4, N), per-copy counts (4, N) int64, rows `STEPS`, `EPISODES`, `DONE`, `FLAGS`),
`Kernels.one`, the single environment's step, and `Kernels.advance`, one copy's step on state components (the
compiled population rollouts of `underact.agents.compiled` call it). `numpy_step` computes the batch step in plain
numpy: the oracle the tests hold `batch` to.

The constants a run keeps between resets are a `BatchConstants`, made from a `Task` once (`batch_constants`), not
per step; `PackedStep` is what a vector environment calls each step.
"""

from __future__ import annotations

from functools import cache
from typing import Any, NamedTuple

import numpy as np
from numba import njit, prange
from numba.extending import register_jitable

from underact.envs.task import Task
from underact.plants.trig import select
from underact.simulate.rk4 import (
    PARALLEL_MIN,
    held_force,
    parallel_threads,
    prepare,
    rk4_components,
    row,
    within_bounds,
)


class BatchConstants(NamedTuple):
    """The leading arguments of `Kernels.batch`, in its order: what stays the same between a vector environment's
    resets (`batch_constants`). Tables are tuples of floats when every copy shares them, (N, K) arrays per copy
    (`underact.simulate.rk4.row`)."""

    gain: Any  # force per unit action: a float, or (N,) per copy
    vdot_constants: Any  # what the system's closed form `vdot` reads (`Task.kernel`): a table
    outcome_constants: Any  # what the task's `outcome` reads (`Task.task_constants`): a table
    step_size: float  # seconds per RK4 step
    substeps: int  # RK4 steps per environment step
    limit: float  # actions are clipped to ±limit
    max_steps: int  # the time limit; < 0: none
    restart: tuple  # (q1, q2, v1, v2, noise): the start distribution (`Task.restart`)
    key: int  # in [0, 2⁶³): the restart noise's key (`counter_uniform`)


class Kernels(NamedTuple):
    """One system's compiled steps (`fused_kernels`)."""

    batch: Any
    one: Any
    advance: Any


#: Copies per block of the compiled batch step: one block's columns stay in the L1 cache.
BLOCK = 256
#: `Kernels.batch`'s flags per copy: the action was NaN or infinite; the new state left the bounds.
BAD_ACTION, UNBOUNDED = 1, 2
#: Rows of the compiled step's per-copy counts (4, N) int64: step count, episode count, done last step, flags.
STEPS, EPISODES, DONE, FLAGS = 0, 1, 2, 3


# SplitMix64's output function (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014)
_GOLDEN, _MIX1, _MIX2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


@register_jitable
def counter_uniform(key, copy, episode, component):
    """A uniform number in [0, 1) that depends only on (key, copy, episode, component) (uint64 scalars or arrays;
    copy < 2³², episode < 2³⁰): SplitMix64's output function of key + counter·φ. Copies restarting inside the
    compiled step draw their start states from it, so no copy waits on Python and any thread gets the same."""
    counter = (episode << np.uint64(34)) | (copy << np.uint64(2)) | component
    z = key + counter * _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@register_jitable
def next_step(done, steps, max_steps, reward, terminated):
    """Gymnasium's next-step autoreset for one copy (or arrays of them): a copy done last step is reset by this
    step, so its step count restarts at 0, its reward is 0 and neither flag is set. max_steps < 0: no time limit.
    Returns (steps, reward, terminated, truncated)."""
    alive = done ^ True
    steps = select(done, 0, steps + 1)
    return steps, select(done, 0.0, reward), terminated & alive, (steps >= max_steps) & (max_steps >= 0) & alive


def fused_kernels(vdot, observe, outcome) -> Kernels:
    """The compiled steps of one system's environments, built around its closed form `vdot` and its `observe` and
    `outcome` (numba-registered functions of the state components):

    - `batch(*constants, x, counts, u, out, counts_out, obs, reward, ends)`, `constants` a `BatchConstants`: the
      vector environments' whole step for N copies, states as columns x (4, N) and counts (4, N) int64 rows `STEPS`,
      `EPISODES`, `DONE`, `FLAGS` (RK4, observation, outcome, the divergence rule and the autoreset bookkeeping of
      `next_step`), blocks of copies in parallel; the new state goes to out and counts_out, ends is (terminated,
      truncated) (2, N). Few arrays, because a parallel launch costs about 0.1 µs per array it passes to its
      threads (and a flat argument list, because numba's dispatcher types a named tuple slower). Actions u (N, 1)
      are clipped to ±limit and scaled by `gain`. A copy done last step starts its next episode instead of moving:
      restart = (centre q1, q2, v1, v2, noise) and `counter_uniform(key, copy, its episode count, component)` give
      its start state; it reports reward 0 and no flags. Returns how many copies it flagged. Each copy is computed
      alone, so the result is bitwise the same for any thread count. The `FLAGS` row gets `BAD_ACTION` |
      `UNBOUNDED` per live copy.
    - `one(x, force, vdot_constants, outcome_constants, step_size, substeps, out)`: the single environment's step:
      the new state into `out` (4,); returns (observation float32, reward, terminated, bounded).
    - `advance(q1, q2, v1, v2, force, vdot_constants, outcome_constants, step_size, substeps)`: one copy's step on
      state components, as `one` and the compiled population rollouts (`underact.agents.compiled`) take it: (q1, q2,
      v1, v2, observation entries, reward, terminated, bounded). Compiled without fast-math, so callers that use it
      get IEEE arithmetic.

    `numpy_step` computes the same as `batch` in plain numpy: its oracle.
    """

    @njit(cache=True, parallel=True, error_model="numpy")
    def batch(
        gain,
        vdot_constants,
        outcome_constants,
        step_size,
        substeps,
        limit,
        max_steps,
        restart,
        key,
        x,
        counts,
        u,
        out,
        counts_out,
        obs,
        reward,
        ends,
    ):  # pragma: no cover - compiled
        n, flagged, key = x.shape[1], 0, np.uint64(key)
        for b in prange((n + BLOCK - 1) // BLOCK):  # blocks of copies in parallel
            m = min(BLOCK, n - b * BLOCK)
            # Unsigned indices: numba wraps negative indices around, and the check on every signed index whose
            # sign it cannot prove (a prange chunk's) keeps the compiler from vectorising the loops (2x slower).
            lo, m = np.uint64(b * BLOCK), np.uint64(m)
            # States are columns (q1, q2, v1, v2 rows), worked on in a block-sized scratch, so each loop over a block's
            # copies but the last is flat arithmetic on contiguous rows with one job per loop: the compiler
            # vectorises it.
            state, entries = np.empty((5, BLOCK)), np.empty((obs.shape[1], BLOCK))  # q1, q2, v1, v2, force
            for r in range(4):
                for j in range(m):
                    state[r, j] = x[r, lo + j]
            for j in range(m):
                state[4, j] = held_force(u[lo + j, 0], row(gain, lo + j), limit)[0]
            for _ in range(substeps):
                for j in range(m):
                    state[0, j], state[1, j], state[2, j], state[3, j] = rk4_components(
                        vdot,
                        state[0, j],
                        state[1, j],
                        state[2, j],
                        state[3, j],
                        state[4, j],
                        row(vdot_constants, lo + j),
                        step_size,
                        1,
                    )
            for r in range(4):  # copies done last step start over: restart centre + uniform noise, no physics
                for j in range(m):
                    i = lo + j
                    noise = 2.0 * counter_uniform(key, i, np.uint64(counts[EPISODES, i]), np.uint64(r)) - 1.0
                    state[r, j] = select(counts[DONE, i] != 0, restart[r] + restart[4] * noise, state[r, j])
                    out[r, i] = state[r, j]
            for j in range(m):
                q1, q2, v1, v2 = state[0, j], state[1, j], state[2, j], state[3, j]
                values = observe(q1, q2, v1, v2)
                for e in range(len(values)):  # a constant count: unrolled
                    entries[e, j] = values[e]
                reward[lo + j], ends[0, lo + j] = outcome(q1, q2, v1, v2, row(outcome_constants, lo + j))
            for j in range(m):
                i = lo + j
                done = counts[DONE, i] != 0
                counts_out[STEPS, i], reward[i], ends[0, i], ends[1, i] = next_step(
                    done, counts[STEPS, i], max_steps, reward[i], ends[0, i]
                )
                counts_out[DONE, i] = ends[0, i] | ends[1, i]
                counts_out[EPISODES, i] = counts[EPISODES, i] + done
            for j in range(m):
                i = lo + j
                alive = counts[DONE, i] == 0
                finite = held_force(u[i, 0], 1.0, limit)[1]
                inside = within_bounds(state[0, j], state[1, j], state[2, j], state[3, j])
                bad_action, unbounded = alive & (finite ^ True), alive & (inside ^ True)
                counts_out[FLAGS, i] = select(bad_action, BAD_ACTION, 0) | select(unbounded, UNBOUNDED, 0)
            in_block = 0
            for j in range(m):
                in_block += counts_out[FLAGS, lo + j] != 0
            flagged += in_block
            for j in range(m):  # observations are rows, as Gymnasium hands them out
                for e in range(obs.shape[1]):
                    obs[lo + j, e] = entries[e, j]
        return flagged

    @njit(cache=True, error_model="numpy")
    def advance(
        q1, q2, v1, v2, force, vdot_constants, outcome_constants, step_size, substeps
    ):  # pragma: no cover - compiled
        q1, q2, v1, v2 = rk4_components(vdot, q1, q2, v1, v2, force, vdot_constants, step_size, substeps)
        reward, terminated = outcome(q1, q2, v1, v2, outcome_constants)
        return q1, q2, v1, v2, observe(q1, q2, v1, v2), reward, terminated, within_bounds(q1, q2, v1, v2)

    @njit(cache=True, error_model="numpy")
    def one(x, force, vdot_constants, outcome_constants, step_size, substeps, out):  # pragma: no cover - compiled
        out[0], out[1], out[2], out[3], entries, reward, terminated, bounded = advance(
            x[0], x[1], x[2], x[3], force, vdot_constants, outcome_constants, step_size, substeps
        )
        obs = np.empty(len(entries), dtype=np.float32)
        for j in range(len(entries)):
            obs[j] = entries[j]
        return obs, reward, terminated, bounded

    return Kernels(batch, one, advance)


@cache
def system_kernels(system) -> Kernels:
    """`fused_kernels` of a system's record (`underact.systems.base.System`), built once per record from its
    closed form and its task's `observe` and `outcome`."""
    prepare(system)
    return fused_kernels(system.vdot, system.task.observe, system.task.outcome)


def kernels(task: Task) -> Kernels:
    """The compiled steps of a task's system (`system_kernels` of its record)."""
    return system_kernels(task.record)


def one_constants(task: Task) -> tuple:
    """(vdot_constants, outcome_constants, step_size, substeps): what `Kernels.one` reads besides the state, the
    force and the output (parameters shared by every copy)."""
    return task.kernel.table[0], task.task_table[0], task.kernel.h, task.kernel.substeps


def batch_constants(task: Task, gain, max_steps: int, key, limit=None) -> BatchConstants:
    """The `BatchConstants` of a run on `task` (fixed between resets): gain (a float, or (N,) per copy), max_steps
    (< 0: no limit), key (an int in [0, 2⁶³)) and the clip limit (default the task's u_limit)."""
    (vdot_constants, outcome_constants), kernel = task.tables, task.kernel
    limit = task.u_limit if limit is None else float(limit)
    return BatchConstants(
        gain, vdot_constants, outcome_constants, kernel.h, kernel.substeps, limit, int(max_steps), task.restart,
        int(key),
    )


class PackedStep:
    """A task's compiled batch step on the packed state, as a vector environment calls it every step: `run`'s
    Python is a few attribute reads around the one compiled call."""

    def __init__(self, task: Task):
        self.task = task
        self.batch = kernels(task).batch
        self.obs_dim = task.obs_dim

    def constants(self, gain, max_steps: int, key, limit=None) -> BatchConstants:
        """`batch_constants` of this task."""
        return batch_constants(self.task, gain, max_steps, key, limit)

    def run(self, constants: BatchConstants, x, counts, u, out, counts_out, threads=None) -> tuple:
        """One step of every copy: states as columns x (4, N), counts (4, N) int64 (rows `STEPS`, `EPISODES`,
        `DONE`), actions u (N, 1); the new state goes to out (4, N) and counts_out (4, N) (its `FLAGS` row:
        `BAD_ACTION` | `UNBOUNDED` per copy). numba's threads: all from `PARALLEL_MIN` copies on, else one, unless
        `threads` says. Returns (obs, reward, terminated, truncated, flagged), new arrays."""
        n = x.shape[1]
        obs, reward, ends = np.empty((n, self.obs_dim), np.float32), np.empty(n), np.empty((2, n), np.bool_)
        args = (*constants, x, counts, u, out, counts_out, obs, reward, ends)
        if threads is None and n >= PARALLEL_MIN:  # every thread (the context manager costs a microsecond)
            flagged = self.batch(*args)
        else:
            with parallel_threads(n, threads):
                flagged = self.batch(*args)
        return obs, reward, ends[0], ends[1], flagged


def numpy_step(task: Task, x, u, gain, done, steps, max_steps: int, key, episodes, limit=None) -> tuple:
    """`PackedStep.run` in plain numpy on separate arrays (`Kernel.numpy`, the numpy `observe` and `outcome`,
    `next_step`, `counter_uniform`): its oracle, and the baseline of `scripts/bench_envs.py`. x (4, N); done, steps,
    episodes (N,). Returns (x (4, N), obs, reward, terminated, truncated, steps, done, episodes, flags, flagged),
    new arrays."""
    limit = task.u_limit if limit is None else float(limit)
    n, restart = len(done), np.array(task.restart)
    copies = np.arange(n, dtype=np.uint64)[:, None]
    components = np.arange(4, dtype=np.uint64)[None]
    noise = 2.0 * counter_uniform(np.uint64(key), copies, episodes.astype(np.uint64)[:, None], components) - 1.0
    with np.errstate(over="ignore", invalid="ignore"):
        force, finite = held_force(u[:, 0], np.asarray(gain, dtype=np.float64), limit)
        rows = np.where(done[:, None], restart[:4] + restart[4] * noise, task.kernel.numpy(x.T, force))
        obs, (reward, terminated) = task.observe(rows), task.components(rows)[1]
        reward = np.broadcast_to(reward, (len(rows),)).astype(np.float64)
        steps_out, reward, terminated, truncated = next_step(done, steps, max_steps, reward, terminated)
        inside = within_bounds(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3])
    alive = ~done
    flags = (np.where(alive & ~finite, BAD_ACTION, 0) | np.where(alive & ~inside, UNBOUNDED, 0)).astype(np.uint8)
    out, done_out = np.ascontiguousarray(rows.T), terminated | truncated
    return (
        out,
        obs,
        reward,
        terminated,
        truncated,
        steps_out,
        done_out,
        episodes + done,
        flags,
        int(np.count_nonzero(flags)),
    )
