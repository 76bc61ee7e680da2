"""The single Gymnasium environment shared by the acrobot and the cart-pole: spaces, step, reset, render.

Subclasses (`AcrobotEnv`, `CartPoleEnv`) pick the `Task` and document themselves; this class owns the
Gymnasium contract: the action is the actuator force itself (N·m or N) in a `Box` bounded by the actuator
limit, out-of-range actions saturate at the limit, NaN, infinite or non-real actions raise `ValueError`, and a
step that diverges raises `underact.errors.DivergenceError` (see `underact.simulate.divergence`) on every backend.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from underact import load, systems
from underact.envs import packed
from underact.envs.settings import EnvSettings, system_settings
from underact.envs.task import Task, check_state, real_array
from underact.simulate.divergence import OUT_OF_BOUNDS, bounded, divergence


def check_action(action, u_limit: float) -> float:
    """The action as a float clipped to ±u_limit; ValueError for a wrong shape, type or non-finite value."""
    if type(action) is np.ndarray and action.shape == (1,) and action.dtype.kind == "f":  # the common case, fast
        u = float(action[0])
    else:
        arr = real_array(action, "action").reshape(-1)
        if arr.shape != (1,):
            raise ValueError(f"action must be one force (shape (1,)); got shape {np.shape(action)}")
        u = float(arr[0])
    if not math.isfinite(u):
        raise ValueError(f"action must be a finite force in [-{u_limit}, {u_limit}]; got {u}")
    return min(max(u, -u_limit), u_limit)


def make_stepper(task: Task, backend: str, params: dict[str, float]):
    """The engine's stepper for `backend` (`step(x, force) -> (x, why)`), None for the analytic closed form; Drake's
    built-ins are the shipped example files, so only u_limit may change there."""
    if backend == "analytic":
        return None  # the task's compiled step (`underact.envs.packed`), observation and outcome included
    if backend == "mujoco":
        from underact.simulate.mujoco import MujocoStepper

        return MujocoStepper(load(task.name, backend="mujoco", **params), task.dt, task.substeps)
    if backend == "drake":
        changed = sorted(set(params) - {"u_limit"})
        if changed and not systems.get(task.name).drake_takes_params:
            raise ValueError(
                f"backend='drake' simulates Drake's shipped {task.name} model, whose parameters are fixed; "
                f"{changed} can be changed on backend='analytic' or 'mujoco'"
            )
        from underact.simulate.drake import DrakeStepper

        plant = load(task.name, backend="drake", **({} if not changed else {k: params[k] for k in changed}))
        plant.u_limit = np.array([task.u_limit])
        return DrakeStepper(plant, task.dt, task.substeps)
    raise ValueError(f"backend must be one of analytic, mujoco, drake (the engines that step); got {backend!r}")


def action_box(u_limit: float) -> gym.spaces.Box:
    return gym.spaces.Box(-u_limit, u_limit, shape=(1,), dtype=np.float32)


def observation_box(task: Task) -> gym.spaces.Box:
    """cos/sin entries in [−1, 1], everything else unbounded."""
    low = np.full(task.obs_dim, -np.inf, dtype=np.float32)
    bounded = task.trig_obs
    low[bounded] = -1.0
    return gym.spaces.Box(low, -low, dtype=np.float32)


class UnderactEnv(gym.Env[np.ndarray, np.ndarray]):
    """A single environment: a `Task` (on the plant's parameters) composed with a backend stepper (see the
    subclasses' docstrings). Its keyword arguments are its system's settings (`Settings`, an
    `underact.envs.settings.EnvSettings`) and the physical parameters; `task` may also come first."""

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 50}
    Settings: type[EnvSettings]

    def __init__(self, task: str | None = None, **options):
        self._setup(self.Settings, task, options)

    def _setup(self, settings_class: type[EnvSettings], task: str | None, options: dict):
        settings, params = settings_class.of(task, options)
        env_task = settings.make_task(params)
        render_mode, actuator_gain = settings.render_mode, settings.actuator_gain
        width, height = settings.width, settings.height
        if np.ndim(actuator_gain) != 0 or not (np.isfinite(actuator_gain) and actuator_gain >= 0):
            raise ValueError(f"actuator_gain must be a finite number >= 0; got {actuator_gain!r}")
        if env_task.copies is not None:
            raise ValueError(
                "parameters with one value per copy need the vector environment: "
                "gymnasium.make_vec(..., vectorization_mode='vector_entry_point')"
            )
        self.task = env_task
        self.backend = settings.backend
        self._stepper = make_stepper(env_task, settings.backend, params)
        self.render_mode = render_mode
        self.actuator_gain = float(actuator_gain)
        self.width, self.height = int(width), int(height)
        self.dt = env_task.dt
        self.metadata = {**self.metadata, "render_fps": round(1 / env_task.dt)}
        self.action_space = action_box(env_task.u_limit)
        self.observation_space = observation_box(env_task)
        self._x = env_task.start(np.random.default_rng(0), 1)[0]
        self._steps = 0  # since the last reset, for divergence messages
        self._step_one, self._step_constants = packed.kernels(env_task).one, packed.one_constants(env_task)

    @property
    def state(self) -> np.ndarray:
        """The state (4,) float64: q then v."""
        return self._x.copy()

    def _obs(self) -> np.ndarray:
        return self.task.observe(self._x[None])[0]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start state drawn from the task's distribution, or exactly `options["state"]` (q then v) if given."""
        super().reset(seed=seed)
        if options and "state" in options:
            self._x = check_state(options["state"])
        else:
            self._x = self.task.start(self.np_random, 1)[0]
        self._steps = 0
        return self._obs(), {}

    def step(self, action):
        u = check_action(action, self.task.u_limit)
        if self._stepper is None:  # the fast path: one compiled call (RK4, observation, outcome, divergence rule)
            x = np.empty(4)
            obs, reward, terminated, ok = self._step_one(self._x, self.actuator_gain * u, *self._step_constants, x)
            why = None
        else:
            with np.errstate(over="ignore", invalid="ignore"):  # a blow-up is reported below, as one error
                x, why = self._stepper.step(self._x, self.actuator_gain * u)
            ok = why is None and bounded(x)
        if not ok:
            t, x0 = self._steps * self.dt, self._x
            why = f"{why or OUT_OF_BOUNDS} (action {u:g})"
            raise divergence(self.backend, self.task.name, t, self._steps, x0[:2], x0[2:], why)
        self._x = x
        self._steps += 1
        if self._stepper is not None:
            batch = x[None]
            obs, reward, terminated = self._obs(), self.task.reward(batch)[0], self.task.terminated(batch)[0]
        return obs, float(reward), bool(terminated), False, {}

    def render(self) -> np.ndarray | None:
        """An (height, width, 3) uint8 frame in `rgb_array` mode, else None."""
        if self.render_mode is None:
            gym.logger.warn("render() called without render_mode; make the env with render_mode='rgb_array'")
            return None
        return self.task.render(self._x[None], self.width, self.height)[0]


class SystemEnv(UnderactEnv):
    """The environment of any system with tasks, made from its record alone (`underact.systems`): its module's
    docstring is the manual, its `TaskDefaults` give dt, observation, outcome and the arguments' defaults.

    `gymnasium.make("underact/FurutaSwingUp-v0", **options)`: `system` names it (the registered ids do), the other
    arguments are its settings (`underact.envs.settings.system_settings`: those of `EnvSettings`, the task's
    defaulting to the system's `TaskDefaults`) and its params class's fields (each checked by `make_params`).
    """

    def __init__(self, system: str, task: str | None = None, **options):
        self._setup(system_settings(system_record(system)), task, options)


def system_record(system: str):
    """The record of a system with environments; ValueError for any other name."""
    record = systems.get(system)  # an UnderactError (a ValueError) for an unknown name
    if record.task is None:
        raise ValueError(f"{system} has no environments")
    return record
