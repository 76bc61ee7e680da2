"""Observation wrappers for perception work: pixels, a history of the last k observations, hidden velocities.

Each comes in a single-environment form (a `gymnasium.Wrapper`) and a vector form for the native vector
environments (`underact.envs.UnderactVectorEnv`), which renders and stacks all copies with batched numpy:

    env = HiddenVelocity(gymnasium.make("underact/AcrobotSwingUp-v0"))            # (4,): cos/sin of angles
    env = ObservationHistory(PixelObservation(gymnasium.make(ID, render_mode="rgb_array")), k=3)  # (3, 64, 64, 3)
    vec = VectorObservationHistory(VectorHiddenVelocity(gymnasium.make_vec(ID, 256, "vector_entry_point")), 4)

History: the newest observation is last along the new leading axis (axis 1 for vector envs); after a reset the
history holds k copies of the first observation.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import VectorEnv, VectorObservationWrapper, VectorWrapper
from gymnasium.vector.utils import batch_space

from underact.envs.task import Task


def _task(env: gym.Env | VectorEnv) -> Task:
    task = getattr(env.unwrapped, "task", None)
    if not isinstance(task, Task):
        raise ValueError(f"expected an underact environment (underact/...-v0); got {env.unwrapped!r}")
    return task


def _position_box(box: gym.spaces.Box, n: int) -> gym.spaces.Box:
    return gym.spaces.Box(box.low[..., :n], box.high[..., :n], dtype=box.dtype)


def _frame_box(env: gym.Env | VectorEnv) -> gym.spaces.Box:
    if env.unwrapped.render_mode != "rgb_array":
        raise ValueError("pixel observations need the environment made with render_mode='rgb_array'")
    u = env.unwrapped
    return gym.spaces.Box(0, 255, shape=(u.height, u.width, 3), dtype=np.uint8)


def _history_box(box: gym.spaces.Box, k: int) -> gym.spaces.Box:
    return gym.spaces.Box(np.repeat(box.low[None], k, axis=0), np.repeat(box.high[None], k, axis=0), dtype=box.dtype)


def _check_k(k: int) -> int:
    if int(k) != k or k < 1:
        raise ValueError(f"history length k must be a positive integer; got {k!r}")
    return int(k)


class PixelObservation(gym.ObservationWrapper):
    """Observations are the rendered frames (height, width, 3) uint8 instead of the state features."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.observation_space = _frame_box(env)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return self.env.unwrapped.render()


class HiddenVelocity(gym.ObservationWrapper):
    """Observations keep the position features only (acrobot: cos/sin of both angles; cart-pole: x, cos θ, sin θ)."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self._n = _task(env).n_position_obs
        self.observation_space = _position_box(env.observation_space, self._n)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return observation[: self._n]


class ObservationHistory(gym.Wrapper):
    """Observations are the last k observations stacked on a new leading axis (k, ...), newest last."""

    def __init__(self, env: gym.Env, k: int):
        super().__init__(env)
        self.k = _check_k(k)
        self.observation_space = _history_box(env.observation_space, self.k)
        self._history: np.ndarray | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._history = np.repeat(np.asarray(obs)[None], self.k, axis=0)
        return self._history.copy(), info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._history = np.concatenate([self._history[1:], np.asarray(obs)[None]], axis=0)
        return self._history.copy(), reward, terminated, truncated, info


class VectorPixelObservation(VectorObservationWrapper):
    """Observations are all copies' frames (N, height, width, 3) uint8, drawn in one batch."""

    def __init__(self, env: VectorEnv):
        super().__init__(env)
        _task(env)
        self.single_observation_space = _frame_box(env)
        self.observation_space = batch_space(self.single_observation_space, env.num_envs)

    def observations(self, observations: np.ndarray) -> np.ndarray:
        return self.env.unwrapped.frames()


class VectorHiddenVelocity(VectorObservationWrapper):
    """Observations keep the position features only, (N, n_position_obs)."""

    def __init__(self, env: VectorEnv):
        super().__init__(env)
        self._n = _task(env).n_position_obs
        self.single_observation_space = _position_box(env.single_observation_space, self._n)
        self.observation_space = batch_space(self.single_observation_space, env.num_envs)

    def observations(self, observations: np.ndarray) -> np.ndarray:
        return observations[:, : self._n]


class VectorObservationHistory(VectorWrapper):
    """Observations (N, k, ...): each copy's last k observations, newest last; restarted when a copy autoresets.

    Assumes `AutoresetMode.NEXT_STEP` (the native vector environments' mode): the step after a copy's episode
    ends returns its first observation, and that copy's history is refilled with it.
    """

    def __init__(self, env: VectorEnv, k: int):
        super().__init__(env)
        self.k = _check_k(k)
        self.single_observation_space = _history_box(env.single_observation_space, self.k)
        self.observation_space = batch_space(self.single_observation_space, env.num_envs)
        self._history: np.ndarray | None = None
        self._done = np.zeros(env.num_envs, dtype=bool)

    def reset(self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._history = np.repeat(np.asarray(obs)[:, None], self.k, axis=1)
        self._done[:] = False
        return self._history.copy(), info

    def step(self, actions):
        obs, reward, terminated, truncated, info = self.env.step(actions)
        obs = np.asarray(obs)
        self._history = np.concatenate([self._history[:, 1:], obs[:, None]], axis=1)
        if self._done.any():
            self._history[self._done] = obs[self._done, None]
        self._done = np.asarray(terminated) | np.asarray(truncated)
        return self._history.copy(), reward, terminated, truncated, info
