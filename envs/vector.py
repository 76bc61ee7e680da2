"""Native vector environments: N copies stepped by one batched closed-form RK4 in numpy, with autoreset.

`gymnasium.make_vec("underact/CartPoleBalance-v0", num_envs=N, vectorization_mode="vector_entry_point")`
returns one of these. Each copy behaves exactly like the single environment with backend="analytic" (same
`Task`, same compiled arithmetic: one fused RK4, observation and outcome pass over the batch, on every numba
thread from `underact.simulate.rk4.PARALLEL_MIN` copies on); the vector version draws all start states from one
generator seeded by `reset`.

Bodies may differ between copies: any physical parameter except u_limit, and `actuator_gain`, may be a sequence
of num_envs values (copy i gets value i), e.g. a population evaluated on pole lengths 0.25 … 1 m in one batch:

    gymnasium.make_vec("underact/CartPoleBalance-v0", 4, "vector_entry_point", l=[0.25, 0.5, 0.75, 1.0])

Autoreset is `AutoresetMode.NEXT_STEP`, as in Gymnasium's own vector environments: after a step that ends a
copy's episode, the next `step` ignores that copy's action, resets it, and returns its first observation with
reward 0 and terminated = truncated = False.

Actions are (N, 1) or (N,) real numbers (finite, except for copies being reset); a copy whose state diverges
raises `underact.errors.DivergenceError` naming the copy (see `underact.simulate.divergence`).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from underact.envs.acrobot import AcrobotSettings
from underact.envs.base import action_box, observation_box, system_record
from underact.envs.cartpole import CartPoleSettings
from underact.envs.packed import BAD_ACTION, FLAGS, STEPS, PackedStep, next_step
from underact.envs.settings import EnvSettings, system_settings
from underact.envs.task import real_array
from underact.simulate.divergence import OUT_OF_BOUNDS, divergence

#: The action types the compiled step takes as they are (`is` first: cheaper than comparing with the types).
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _count(num_envs) -> int:
    """num_envs as a positive int; ValueError for anything else (2.7 is not silently 2)."""
    if isinstance(num_envs, (bool, np.bool_)) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
        raise ValueError(f"num_envs must be a positive integer; got {num_envs!r}")
    return int(num_envs)


#: The largest time limit a vector environment takes (its step counts are int64 in the compiled step).
MAX_STEPS_LIMIT = 2**62


def check_time_limit(max_episode_steps) -> int | None:
    """max_episode_steps as an int (None: no limit); ValueError for anything but an integer in 1 … 2⁶²."""
    value = max_episode_steps
    if value is None:
        return None
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, np.integer))
        or not 1 <= value <= MAX_STEPS_LIMIT
    ):
        raise ValueError(f"max_episode_steps must be None or an integer in 1 … 2**62; got {value!r}")
    return int(value)


def next_step_flags(steps, done, reward, terminated, max_episode_steps):
    """Gymnasium's next-step autoreset bookkeeping for N copies (`underact.envs.packed.next_step`, the compiled
    environments' rule) in numpy: a copy done last step was reset by this step, so its reward is 0 and neither flag
    is set (`reward`, `terminated` are changed in place). Returns the step counts, the truncation flags and which
    copies are done now."""
    limit = -1 if max_episode_steps is None else max_episode_steps
    steps, reward[:], terminated[:], truncated = next_step(done, steps, limit, reward, terminated)
    return steps, truncated, terminated | truncated


class UnderactVectorEnv(VectorEnv):
    """N copies of one task on one system (analytic backend), bodies shared or per copy; `state` is (N, 4) (kept as
    columns (4, N) inside, the layout the compiled step vectorises over).

    `num_envs` copies, `task`, and `max_episode_steps` (default 500; None: no time limit) may come first; the other
    keyword arguments are the system's settings (`Settings`, as its single environment takes them) and physical
    parameters, each (but u_limit) also one value per copy."""

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "autoreset_mode": AutoresetMode.NEXT_STEP}
    Settings: type[EnvSettings]

    def __init__(self, num_envs: int = 1, task: str | None = None, max_episode_steps: int | None = 500, **options):
        self._setup(self.Settings, num_envs, task, max_episode_steps, options)

    def _setup(self, settings_class: type[EnvSettings], num_envs, task: str | None, max_episode_steps, options: dict):
        settings, params = settings_class.of(task, options)
        task = settings.make_task(params)
        backend, render_mode, width, height = settings.backend, settings.render_mode, settings.width, settings.height
        if backend != "analytic":
            raise ValueError(
                f"vector_entry_point environments run the analytic backend only; got backend={backend!r} "
                "(use vectorization_mode='sync' for drake or mujoco)"
            )
        num_envs = _count(num_envs)
        if task.copies not in (None, num_envs):
            raise ValueError(f"per-copy parameters must have num_envs = {num_envs} values; got {task.copies}")
        self._packed = PackedStep(task)
        self.task = task
        self.num_envs = num_envs
        # Copies restart inside the compiled step (next-step autoreset), their start noise a function of this key,
        # drawn from the env's generator at every reset, and of each copy's episode count (`counter_uniform`).
        self._key = 0
        self._max_episode_steps = check_time_limit(max_episode_steps)
        self.actuator_gain = settings.actuator_gain  # checked; makes the compiled step's constants
        self.render_mode = render_mode
        self.width, self.height = int(width), int(height)
        self.dt = task.dt
        self.metadata = {**self.metadata, "render_fps": round(1 / task.dt)}
        self.single_action_space = action_box(task.u_limit)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.single_observation_space = observation_box(task)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        # The state lives in one of two preallocated sets, x (4, N) (the compiled step's layout) and counts (4, N)
        # (step count, episode count, done, flags per copy: `underact.envs.packed.STEPS`, ...), and a step writes the
        # new one into the other: no allocation for it per step.
        self._sets = [(np.empty((4, num_envs)), np.zeros((4, num_envs), np.int64)) for _ in range(2)]
        self._x, self._counts = self._sets[0]
        self._x[:] = task.start(np.random.default_rng(0), self.num_envs).T

    @property
    def state(self) -> np.ndarray:
        """States (N, 4) float64: q then v per copy."""
        return np.ascontiguousarray(self._x.T)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """All copies from the task's start distribution, or from `options["state"]`: (4,) for all or (N, 4)."""
        super().reset(seed=seed)
        if options and "state" in options:
            self._x[:] = self._check_states(options["state"]).T
        else:
            self._x[:] = self.task.start(self.np_random, self.num_envs).T
        self._key = int(self.np_random.integers(0, 2**63))
        self._refresh()
        self._counts[:] = 0
        return self.task.observe(self._x.T), {}

    def _check_states(self, states) -> np.ndarray:
        arr = real_array(states, "options['state']")
        if arr.shape == (4,):
            arr = np.tile(arr, (self.num_envs, 1))
        if arr.shape != (self.num_envs, 4):
            raise ValueError(f"options['state'] must have shape (4,) or ({self.num_envs}, 4); got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError("options['state'] must be finite; got NaN or infinite entries")
        return arr

    def _actions(self, actions) -> np.ndarray:
        """Actions as a contiguous (N, 1) float32 or float64 array (shape and type checked here, values in the
        compiled step: non-finite actions of live copies are refused, the rest clipped to ±u_limit)."""
        if type(actions) is np.ndarray and actions.shape == (self.num_envs, 1) and actions.dtype in _FLOATS:
            if actions.flags.c_contiguous:  # the common case, checked cheaply
                return actions
        u = np.asarray(actions)
        if u.dtype != np.float32 and u.dtype != np.float64:
            u = real_array(u, "actions")
        if u.shape not in ((self.num_envs, 1), (self.num_envs,)):
            raise ValueError(f"actions must have shape ({self.num_envs}, 1); got {u.shape}")
        return np.ascontiguousarray(u.reshape(self.num_envs, 1))

    @property
    def max_episode_steps(self) -> int | None:
        """The time limit (None: none); may be changed between steps."""
        return self._max_episode_steps

    @max_episode_steps.setter
    def max_episode_steps(self, value):
        self._max_episode_steps = check_time_limit(value)
        self._refresh()

    @property
    def actuator_gain(self) -> float | np.ndarray:
        """Force per unit action: a float, or (N,) per copy; may be changed between steps."""
        return self._actuator_gain

    @actuator_gain.setter
    def actuator_gain(self, value):
        problem = ValueError(f"actuator_gain must be a finite number >= 0 or {self.num_envs} of them; got {value!r}")
        try:
            gain = np.array(value, dtype=np.float64)  # a copy: a caller changing its array later changes nothing here
        except (TypeError, ValueError):
            raise problem from None
        if gain.shape not in ((), (self.num_envs,)) or not np.all(np.isfinite(gain) & (gain >= 0)):
            raise problem
        self._actuator_gain = np.ascontiguousarray(gain) if gain.ndim else float(gain)  # (N,) or a float
        self._refresh()

    def _refresh(self):
        """Remakes what the compiled step takes besides state, actions and outputs (fixed between resets and
        settings), once, rather than at every step."""
        limit = -1 if self._max_episode_steps is None else self._max_episode_steps
        self._constants = self._packed.constants(self._actuator_gain, limit, self._key)

    def step(self, actions):
        u = self._actions(actions)
        x, counts = self._sets[self._sets[0][0] is self._x]  # the set that does not hold the current state
        obs, reward, terminated, truncated, flagged = self._packed.run(
            self._constants, self._x, self._counts, u, x, counts
        )
        if flagged:
            self._refuse(counts[FLAGS], u)
        self._x, self._counts = x, counts
        return obs, reward, terminated, truncated, {}

    def _refuse(self, flags: np.ndarray, u: np.ndarray):
        """The one-line error for the first copy the compiled step flagged: a non-finite action, else divergence."""
        bad = np.flatnonzero(flags & BAD_ACTION)
        if len(bad):
            raise ValueError(f"actions must be finite forces; got {u[bad[0], 0]} for env {bad[0]}")
        i = int(np.flatnonzero(flags)[0])
        steps = int(self._counts[STEPS, i])
        t, x0 = steps * self.dt, self._x[:, i]
        why = f"{OUT_OF_BOUNDS} (action {u[i, 0]:g})"
        raise divergence("analytic", f"{self.task.name} (env {i})", t, steps, x0[:2], x0[2:], why)

    def frames(self) -> np.ndarray:
        """All copies drawn at once: (N, height, width, 3) uint8."""
        return self.task.render(self._x.T, self.width, self.height)

    def render(self) -> tuple[np.ndarray, ...] | None:
        """One (height, width, 3) uint8 frame per copy in `rgb_array` mode, else None."""
        if self.render_mode is None:
            gym.logger.warn("render() called without render_mode; make the env with render_mode='rgb_array'")
            return None
        return tuple(self.frames())


class AcrobotVectorEnv(UnderactVectorEnv):
    """N acrobots; arguments (`AcrobotSettings`) and semantics as `underact.envs.AcrobotEnv` (analytic backend)."""

    Settings = AcrobotSettings


class CartPoleVectorEnv(UnderactVectorEnv):
    """N cart-poles; arguments (`CartPoleSettings`) and semantics as `underact.envs.CartPoleEnv` (analytic
    backend)."""

    Settings = CartPoleSettings


class SystemVectorEnv(UnderactVectorEnv):
    """N copies of any system with tasks, made from its record alone; arguments and semantics as
    `underact.envs.base.SystemEnv` (analytic backend), each physical parameter (but u_limit) also one per copy."""

    def __init__(self, system: str, num_envs: int = 1, task: str | None = None,
                 max_episode_steps: int | None = 500, **options):
        self._setup(system_settings(system_record(system)), num_envs, task, max_episode_steps, options)
