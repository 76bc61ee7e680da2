"""Frozen encoders in front of the agents: vector environments whose observations are encoder features.

`EncodedEnvSpec` is an `EnvSpec` (see `underact.agents.rollout`) whose environments pass through `wrap`, so
`PopulationEvaluator` and the trainer's ES loop (`underact.agents.trainer.evolve`) run unchanged on encoded
observations:

    spec = EncodedEnvSpec("underact/CartPoleBalance-v0", {"render_mode": "rgb_array"},
                          wrap=lambda env: VectorEncodedObservation(VectorPixelObservation(env), encode, 16))

`scripts/compare_encoders.py` runs that loop behind several observation choices with the same budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
from gymnasium.vector import VectorEnv, VectorObservationWrapper
from gymnasium.vector.utils import batch_space

from underact.agents.rollout import EnvSpec


class VectorEncodedObservation(VectorObservationWrapper):
    """Observations are `encode(observations)`: [N, ...] -> [N, feature_dim] float32, one batched call per step."""

    def __init__(self, env: VectorEnv, encode: Callable[[np.ndarray], np.ndarray], feature_dim: int):
        super().__init__(env)
        self.encode, self.feature_dim = encode, int(feature_dim)
        self.single_observation_space = gym.spaces.Box(-np.inf, np.inf, (self.feature_dim,), np.float32)
        self.observation_space = batch_space(self.single_observation_space, env.num_envs)

    def observations(self, observations: np.ndarray) -> np.ndarray:
        features = np.asarray(self.encode(observations), dtype=np.float32)
        if features.shape != (self.num_envs, self.feature_dim):
            raise ValueError(
                f"encode must return [num_envs, feature_dim] = [{self.num_envs}, {self.feature_dim}], "
                f"got {features.shape}"
            )
        return features


@dataclass
class EncodedEnvSpec(EnvSpec):
    """An `EnvSpec` whose vector environments are wrapped by `wrap` (e.g. pixels, history, an encoder)."""

    wrap: Callable[[VectorEnv], VectorEnv] = field(default=lambda env: env)

    def make(self, num_envs: int) -> VectorEnv:
        return self.wrap(super().make(num_envs))
