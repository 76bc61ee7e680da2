"""A task on a built-in system, batched over a leading axis: observation, reward, termination, start, scene.

A `Task` is one goal ("swingup" or "balance", `goal`) on one system, composed with the plant's physical parameters
(`params`: floats, or one value per copy for vector environments) and the analytic stepper (`kernel`, the compiled
RK4 of `underact.simulate.rk4` on the closed form of `underact.plants.analytic`), with which its compiled step is
fused (`step_one`, `step_all`: the single environment's analytic backend and the vector environments' engine). Its
scene is drawn by the one renderer (`underact.render`). States are float64 arrays (N, 4) laid out q then v; actions
are forces (N,) already scaled by the actuator gain.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import cache, cached_property
from typing import Any, NamedTuple

import numpy as np
from numba import njit, prange
from numba.extending import register_jitable

from underact import systems
from underact.plants.trig import select
from underact.render import Scene, View, draw_capsules
from underact.simulate.rk4 import (
    PARALLEL_MIN,
    Kernel,
    held_force,
    parallel_threads,
    prepare,
    rk4_components,
    row,
    table,
    within_bounds,
)

TASKS = ("swingup", "balance")


class BatchConstants(NamedTuple):
    """The leading arguments of `fused_kernels`' `batch`: what stays the same between a vector environment's
    resets (`Task.batch_constants`)."""

    gain: Any  # a float, or (N,) per copy
    c: Any  # the closed form's constants: a tuple of floats, or (N, K) per copy
    k: Any  # the outcome's constants, likewise
    h: float  # RK4 step
    substeps: int
    limit: float  # actions are clipped to ±limit
    max_steps: int  # < 0: no time limit
    restart: tuple  # (q1, q2, v1, v2, noise): the start distribution
    key: int  # in [0, 2⁶³): the restart noise's key


#: Default limit on joint speeds (rad/s), 8π: beyond it an episode ends (see `Task.terminated`).
MAX_SPEED = 8 * np.pi


#: Copies per block of the compiled batch step: one block's columns stay in the L1 cache.
BLOCK = 256
#: `compiled_batch`'s flags per copy: the action was NaN or infinite; the new state left the bounds.
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


def fused_kernels(vdot, observe, outcome):
    """The compiled steps of one system's environments, built around its closed form `vdot` and its `observe` and
    `outcome` (numba-registered functions of the state components):

    - `batch(gain, c, k, h, substeps, limit, max_steps, restart, key, x, counts, u, out, counts_out, obs, reward, ends)`
      (the constants of a run first: `BatchConstants`): the vector environments' whole step for N copies, states as
      columns x (4, N) and counts (4, N) int64 rows `STEPS`, `EPISODES`, `DONE`, `FLAGS` (RK4, observation, outcome, the
      divergence rule and the autoreset bookkeeping of `next_step`), blocks of copies in parallel; the new state goes to
      out and counts_out, ends is (terminated, truncated) (2, N). Few arrays, because a parallel launch costs about 0.1
      µs per array it passes to its threads. Actions u (N, 1) are clipped to ±limit and scaled by `gain`; `c`, `k` and
      `gain` are tuples or floats when shared, per-copy tables otherwise (`underact.simulate.rk4.row`). A copy done last
      step starts its next episode instead of moving: restart = (centre q1, q2, v1, v2, noise) and `counter_uniform(key,
      copy, its episode count, component)` give its start state; it reports reward 0 and no flags. Returns how many
      copies it flagged. Each copy is computed alone, so the result is bitwise the same for any thread count. The
      `FLAGS` row gets `BAD_ACTION` | `UNBOUNDED` per live copy.
    - `one(x, force, c, k, h, substeps, out)`: the single environment's step: the new state into `out` (4,);
      returns (observation float32, reward, terminated, bounded).
    - `advance(q1, q2, v1, v2, force, c, k, h, substeps)`: one copy's step on state components, as `one` and the
      compiled population rollouts (`underact.agents.compiled`) take it: (q1, q2, v1, v2, observation entries,
      reward, terminated, bounded). Compiled without fast-math, so callers that use it get IEEE arithmetic.

    `Task.numpy_batch` computes the same in plain numpy: the oracle of `batch`.
    """

    @njit(cache=True, parallel=True, error_model="numpy")
    def batch(
        gain, c, k, h, substeps, limit, max_steps, restart, key, x, counts, u, out, counts_out, obs, reward, ends
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
                        vdot, state[0, j], state[1, j], state[2, j], state[3, j], state[4, j], row(c, lo + j), h, 1
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
                reward[lo + j], ends[0, lo + j] = outcome(q1, q2, v1, v2, row(k, lo + j))
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
    def advance(q1, q2, v1, v2, force, c, k, h, substeps):  # pragma: no cover - compiled
        q1, q2, v1, v2 = rk4_components(vdot, q1, q2, v1, v2, force, c, h, substeps)
        reward, terminated = outcome(q1, q2, v1, v2, k)
        return q1, q2, v1, v2, observe(q1, q2, v1, v2), reward, terminated, within_bounds(q1, q2, v1, v2)

    @njit(cache=True, error_model="numpy")
    def one(x, force, c, k, h, substeps, out):  # pragma: no cover - compiled
        out[0], out[1], out[2], out[3], entries, reward, terminated, bounded = advance(
            x[0], x[1], x[2], x[3], force, c, k, h, substeps
        )
        obs = np.empty(len(entries), dtype=np.float32)
        for j in range(len(entries)):
            obs[j] = entries[j]
        return obs, reward, terminated, bounded

    return batch, one, advance


@cache
def system_kernels(system) -> tuple:
    """(batch, one, advance) of `fused_kernels` for a system's record (`underact.systems.base.System`), built once
    per record from its closed form and its task's `observe` and `outcome`."""
    prepare(system)
    return fused_kernels(system.vdot, system.task.observe, system.task.outcome)


class Task(ABC):
    """One goal on one system. Subclasses define the observation, outcome and scene; the rest is shared."""

    name: str
    #: Seconds per environment step, and RK4 steps inside one environment step.
    dt: float
    substeps: int
    #: Observation length, and how many leading observation entries depend on positions only.
    obs_dim: int
    n_position_obs: int
    #: Which observation entries are cosines or sines (bounded by ±1).
    trig_obs: np.ndarray
    #: Configuration at the goal and when hanging at rest (angles in radians); which coordinates are angles.
    upright: np.ndarray
    q_rest: np.ndarray
    angular_mask: np.ndarray

    def __init__(self, params, task: str, fall_angle: float, reset_noise: float, max_speed: float):
        if task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}; got {task!r}")
        if not (np.isfinite(fall_angle) and fall_angle > 0):
            raise ValueError(f"fall_angle must be a positive number of radians; got {fall_angle!r}")
        if not (max_speed > 0):
            raise ValueError(f"max_speed must be a positive number of rad/s; got {max_speed!r}")
        if not (np.isfinite(reset_noise) and reset_noise >= 0):
            raise ValueError(f"reset_noise must be a non-negative number; got {reset_noise!r}")
        self.params = params  # checked by `make_params(..., per_copy=True)`
        self.copies = _copies(self.name, params)
        self.goal = task
        self.fall_angle = float(fall_angle)
        self.reset_noise = float(reset_noise)
        self.max_speed = float(max_speed)
        self.u_limit = float(params.u_limit)
        self.kernel = Kernel(self.name, params, self.dt, self.substeps)
        self.scene = self.make_scene()

    @abstractmethod
    def make_scene(self) -> Scene:
        """What `render` draws: the system's `underact.render.Scene` for its parameters."""

    @property
    def radii(self) -> np.ndarray:
        """Capsule radii (S,) in pixels at 64 × 64."""
        return self.scene.radii

    @property
    def colors(self) -> np.ndarray:
        """Capsule colours (S, 3) in 0..255, in drawing order."""
        return self.scene.colors

    @property
    def scene_size(self) -> tuple[int, int]:
        """(width, height) in pixels of a frame that shows the whole scene well (videos, `fixed_camera=True`)."""
        return self.scene.size

    @cached_property
    def task_table(self) -> np.ndarray:
        """`task_constants` as the compiled steps' (N or 1, K) table."""
        return table(self.task_constants())

    @abstractmethod
    def task_constants(self) -> tuple:
        """The constants `outcome` reads (task, limits, lengths): floats, or arrays per copy."""

    @abstractmethod
    def components(self, x: np.ndarray) -> tuple:
        """Observation entries, and (reward, terminated), from state components: `(observe, outcome)` of the system's
        module, numpy here (the same functions run compiled in `compiled_step` and `compiled_batch`)."""

    def segments(self, x: np.ndarray, fixed_camera: bool = False) -> np.ndarray:
        """Capsules (N, S, 2, 2) to draw, world coordinates in metres (relative to a moving camera, if any,
        unless `fixed_camera`)."""
        return self.scene.segments(x)

    def view(self, width: int, height: int, fixed_camera: bool = False) -> View:
        """The camera for frames of this size (`fixed_camera`: the whole scene, ignoring a following camera)."""
        return self.scene.view(width, height)

    def observe(self, x: np.ndarray) -> np.ndarray:
        """Observations (N, obs_dim) float32."""
        return np.stack(self.components(x)[0], axis=1).astype(np.float32)

    def reward(self, x: np.ndarray) -> np.ndarray:
        """Swing-up: (1 + height) / 2 in [0, 1], height 1 upright and −1 hanging; balance: 1 per step alive."""
        return np.broadcast_to(self.components(x)[1][0], (len(x),)).astype(np.float64)

    def terminated(self, x: np.ndarray) -> np.ndarray:
        """A joint spinning faster than `max_speed`; for balance also a fall (each system says what that is).

        The speed limit keeps the fixed-step RK4 accurate (a constant maximal torque would otherwise spin the
        acrobot up until the integration fails) and stands for the hardware's limits.
        """
        return self.components(x)[1][1]

    @cached_property
    def tables(self) -> tuple:
        """(c, k): the closed form's and the outcome's constants as the compiled steps take them, tuples of floats
        when shared by every copy (so a loop over copies reads no memory for them), (N, K) tables per copy."""
        return tuple(tuple(map(float, t[0])) if len(t) == 1 else t for t in (self.kernel.table, self.task_table))

    @cached_property
    def restart(self) -> tuple:
        """(q1, q2, v1, v2, noise): the start distribution's centre and half-width (see `start`)."""
        q0 = self.q_rest if self.goal == "swingup" else self.upright
        return float(q0[0]), float(q0[1]), 0.0, 0.0, self.reset_noise

    def batch_constants(self, gain, max_steps: int, key, limit=None) -> BatchConstants:
        """The leading arguments of `compiled_batch` that stay the same for a run (between resets): gain (a float,
        or (N,) per copy), the tables, the step size, the clip limit (default u_limit), max_steps (< 0: no limit),
        the restart distribution and the key (an int in [0, 2⁶³))."""
        (c, k), kernel = self.tables, self.kernel
        limit = self.u_limit if limit is None else float(limit)
        return BatchConstants(gain, c, k, kernel.h, kernel.substeps, limit, int(max_steps), self.restart, int(key))

    def step_packed(self, x, counts, u, gain, max_steps: int, key, out, counts_out, threads=None, limit=None) -> tuple:
        """The vector environments' whole step, compiled (`fused_kernels`' `batch`), on their packed state: states
        as columns x (4, N), counts (4, N) int64 (rows `STEPS`, `EPISODES`, `DONE`), actions u (N, 1) clipped to
        ±limit (default u_limit) and scaled by `gain` (a float, or (N,) per copy), max_steps < 0 for no limit; key
        an int in [0, 2⁶³). The new state goes to out (4, N) and counts_out (4, N) (its `FLAGS` row: `BAD_ACTION` |
        `UNBOUNDED` per copy). Returns (obs, reward, terminated, truncated, flagged), new arrays."""
        constants = self.batch_constants(gain, max_steps, key, limit)
        return self.run_batch(constants, x, counts, u, out, counts_out, threads)

    def run_batch(self, constants: BatchConstants, x, counts, u, out, counts_out, threads=None) -> tuple:
        """`step_packed` with its constants already made (`batch_constants`), as a vector environment keeps them
        between resets: its step's Python is then a few attribute reads."""
        n = x.shape[1]
        obs, reward, ends = np.empty((n, self.obs_dim), np.float32), np.empty(n), np.empty((2, n), np.bool_)
        args = (*constants, x, counts, u, out, counts_out, obs, reward, ends)
        if threads is None and n >= PARALLEL_MIN:  # every thread (the context manager costs a microsecond)
            flagged = self.compiled_batch(*args)
        else:
            with parallel_threads(n, threads):
                flagged = self.compiled_batch(*args)
        return obs, reward, ends[0], ends[1], flagged

    def step_batch(self, x, u, gain, done, steps, max_steps: int, key, episodes, threads=None, limit=None) -> tuple:
        """`step_packed` on separate arrays (the form of its oracle `numpy_batch`): done, steps, episodes (N,) each.
        Returns (x (4, N), obs, reward, terminated, truncated, steps, done, episodes, flags, flagged), new arrays;
        the inputs are not changed."""
        n = x.shape[1]
        counts = np.zeros((4, n), np.int64)
        counts[STEPS], counts[EPISODES], counts[DONE] = steps, episodes, done
        out, counts_out = np.empty((4, n)), np.empty((4, n), np.int64)
        obs, reward, terminated, truncated, flagged = self.step_packed(
            x, counts, u, gain, max_steps, key, out, counts_out, threads, limit
        )
        flags = counts_out[FLAGS].astype(np.uint8)
        steps_out, done_out, episodes_out = counts_out[STEPS], counts_out[DONE].astype(bool), counts_out[EPISODES]
        return out, obs, reward, terminated, truncated, steps_out, done_out, episodes_out, flags, flagged

    def numpy_batch(self, x, u, gain, done, steps, max_steps: int, key, episodes, limit=None) -> tuple:
        """`step_batch` in plain numpy (`Kernel.numpy`, the numpy `observe` and `outcome`, `next_step`,
        `counter_uniform`): its oracle, and the baseline of `scripts/bench_envs.py`."""
        limit = self.u_limit if limit is None else float(limit)
        n, restart = len(done), np.array(self.restart)
        copies = np.arange(n, dtype=np.uint64)[:, None]
        components = np.arange(4, dtype=np.uint64)[None]
        noise = 2.0 * counter_uniform(np.uint64(key), copies, episodes.astype(np.uint64)[:, None], components) - 1.0
        with np.errstate(over="ignore", invalid="ignore"):
            force, finite = held_force(u[:, 0], np.asarray(gain, dtype=np.float64), limit)
            rows = np.where(done[:, None], restart[:4] + restart[4] * noise, self.kernel.numpy(x.T, force))
            obs, (reward, terminated) = self.observe(rows), self.components(rows)[1]
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

    def numpy_run_batch(self, constants: BatchConstants, x, counts, u, out, counts_out, threads=None) -> tuple:
        """`run_batch` through the plain-numpy oracle (`numpy_batch`): the numpy path of `scripts/bench_envs.py`."""
        c, done = constants, counts[DONE] != 0
        state = self.numpy_batch(x, u, c.gain, done, counts[STEPS], c.max_steps, c.key, counts[EPISODES], c.limit)
        out[...] = state[0]
        counts_out[STEPS], counts_out[DONE], counts_out[EPISODES], counts_out[FLAGS] = state[5], state[6], *state[7:9]
        return (*state[1:5], state[9])

    def step_all(self, x: np.ndarray, force: np.ndarray, threads: int | None = None) -> tuple:
        """RK4, observation and outcome of every state x (N, 4) under forces (N,) as given (no clipping), compiled:
        (next states (N, 4), observations, rewards, terminations)."""
        n = len(x)
        u = np.ascontiguousarray(np.asarray(force, dtype=np.float64).reshape(n, 1))
        done, steps = np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.int64)
        columns = np.ascontiguousarray(np.asarray(x, dtype=np.float64).T)
        out, obs, reward, terminated = self.step_batch(columns, u, 1.0, done, steps, -1, 0, steps, threads, np.inf)[:4]
        return np.ascontiguousarray(out.T), obs, reward, terminated

    @cached_property
    def one_constants(self) -> tuple:
        """(c, k, h, substeps): what `compiled_step` reads besides the state, the force and the output (shared
        parameters)."""
        return self.kernel.table[0], self.task_table[0], self.kernel.h, self.kernel.substeps

    def step_one(self, x: np.ndarray, force: float) -> tuple:
        """One compiled step of one state (shared parameters): next state (4,), observation, reward, terminated."""
        out = np.empty(4)
        x = np.ascontiguousarray(x, dtype=np.float64)
        obs, reward, terminated, _ = self.compiled_step(x, float(force), *self.one_constants, out)
        return out, obs, reward, terminated

    def start(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n start states (n, 4): hanging rest (swing-up) or upright (balance), plus uniform noise on q and v."""
        return np.array(self.restart[:4]) + rng.uniform(-self.reset_noise, self.reset_noise, size=(n, 4))

    def render(self, x: np.ndarray, width: int, height: int, fixed_camera: bool = False) -> np.ndarray:
        """Frames (N, height, width, 3) uint8 (`fixed_camera`: the whole scene even if the camera follows)."""
        radii = self.radii * min(width, height) / 64.0
        return draw_capsules(self.view(width, height, fixed_camera), self.segments(x, fixed_camera), radii, self.colors)


class SystemTask(Task):
    """A task on a two-DoF system, everything read from its record (`underact.systems`: closed form, observation,
    outcome, scene, steps). `system` names it where the class does not (`AcrobotTask.name`); `options` are the
    system's own task arguments (a rail's `x_limit`), handed to its scene and outcome."""

    def __init__(self, params, task: str, fall_angle: float, reset_noise: float, max_speed: float,
                 system: str | None = None, **options):
        record = systems.get(system or self.name)
        if record.task is None:
            raise ValueError(f"{record.name} has no environments")
        defaults = record.task
        self.record, self.name, self.options = record, record.name, options
        self.dt, self.substeps = defaults.dt, defaults.substeps
        self.trig_obs = np.array(defaults.trig_obs)
        self.obs_dim, self.n_position_obs = len(defaults.trig_obs), defaults.n_position_obs
        plant = _default_plant(record)
        self.upright, self.q_rest, self.angular_mask = plant.upright, plant.q_rest, plant.angle_mask
        self.compiled_batch, self.compiled_step, self.compiled_advance = system_kernels(record)
        self._observe, self._outcome = defaults.observe, defaults.outcome
        super().__init__(params, task, fall_angle, reset_noise, max_speed)

    def make_scene(self) -> Scene:
        return self.record.scene(self.params, **self.options)

    def task_constants(self) -> tuple:
        return self.record.task.outcome_constants(self)

    def components(self, x: np.ndarray) -> tuple:
        q1, q2, v1, v2 = x[:, 0], x[:, 1], x[:, 2], x[:, 3]
        return self._observe(q1, q2, v1, v2), self._outcome(q1, q2, v1, v2, self.task_constants())

    def observe(self, x: np.ndarray) -> np.ndarray:
        """Observations (N, obs_dim) float32 (the observation alone: a reset needs no outcome)."""
        return np.stack(self._observe(x[:, 0], x[:, 1], x[:, 2], x[:, 3]), axis=1).astype(np.float32)


@cache
def _default_plant(record):
    return record.plant(record.params())


def _copies(system: str, params) -> int | None:
    """How many copies the per-copy (array) parameters describe, None if every parameter is shared."""
    sizes = {len(value) for value in vars(params).values() if np.ndim(value)}
    if len(sizes) > 1:
        raise ValueError(f"{system} per-copy parameters must all have the same length; got {sorted(sizes)}")
    return sizes.pop() if sizes else None


def real_array(value, what: str) -> np.ndarray:
    """`value` as a float64 array; ValueError for anything but real numbers (complex, bool, text, objects)."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"{what} must be real numbers (float or int); got dtype {arr.dtype}")
    return arr.astype(np.float64)


def check_state(x0, what: str = "options['state']") -> np.ndarray:
    """A finite float64 copy of x0 with shape (4,), or a ValueError naming the problem."""
    arr = real_array(x0, what)
    if arr.shape != (4,):
        raise ValueError(f"{what} must be 4 numbers (q then v); got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} must be finite; got {arr.tolist()}")
    return arr
