"""Frozen encoders in front of the agents: vector environments whose observations are encoder features.

`EncodedEnvSpec` is an `EnvSpec` (see `underact.agents.rollout`) whose environments pass through `wrap`, so
`PopulationEvaluator` and the ES loop run unchanged on encoded observations:

    spec = EncodedEnvSpec("underact/CartPoleBalance-v0", {"render_mode": "rgb_array"},
                          wrap=lambda env: VectorEncodedObservation(VectorPixelObservation(env), encode, 16))
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
from gymnasium.vector import VectorEnv, VectorObservationWrapper
from gymnasium.vector.utils import batch_space

from underact.agents.es import ESConfig, OpenAIES
from underact.agents.hebbian import PlasticNet
from underact.agents.rollout import EnvSpec, PopulationEvaluator
from underact.agents.trainer import set_threads


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


def evolve(
    spec: EnvSpec,
    net: PlasticNet,
    *,
    generations: int,
    population: int = 32,
    episodes: int = 2,
    sigma: float = 0.1,
    lr: float = 0.05,
    seed: int = 0,
    progress: bool = True,
) -> tuple[np.ndarray, list[float]]:
    """OpenAI-ES on `net`'s genome in `spec`'s environments: (center genome, center return per generation).

    The same building blocks as `underact.agents.trainer` (OpenAIES, PopulationEvaluator), without run folders,
    so that a spec carrying an encoder can be used; the center is evaluated alongside the population each
    generation as one extra individual. Like the trainer, it runs torch and the kernels on one thread.
    """
    from tqdm import tqdm

    set_threads()
    es = OpenAIES(net.num_params, ESConfig(population=population, sigma=sigma, lr=lr, seed=seed))
    evaluator = PopulationEvaluator(spec, net, population + 1, episodes, seed)
    curve: list[float] = []
    try:
        bar = tqdm(range(generations), desc="generation", disable=not progress, file=sys.stderr)
        for generation in bar:
            genomes = es.ask()
            batch = np.vstack([genomes, es.center.astype(np.float32)[None]])
            returns, _ = evaluator.evaluate(batch, 0, generation)
            es.tell(returns[:population].mean(axis=1))
            curve.append(float(returns[population].mean()))
            bar.set_postfix(center=f"{curve[-1]:.0f}", best=f"{returns[:population].mean(axis=1).max():.0f}")
    finally:
        evaluator.close()
    return es.center.astype(np.float32), curve


def evaluate(spec: EnvSpec, net: PlasticNet, genome: np.ndarray, episodes: int, seed: int) -> np.ndarray:
    """Returns [episodes] of one genome on fresh episodes (fresh plastic weights each)."""
    set_threads()
    evaluator = PopulationEvaluator(spec, net, 1, episodes, seed)
    try:
        returns, _ = evaluator.evaluate(genome[None], 0, 10**9)
    finally:
        evaluator.close()
    return returns[0]


def compare(
    agents: dict[str, tuple[EnvSpec, int]],
    *,
    hidden: int,
    rule: str,
    generations: int,
    population: int,
    episodes: int,
    eval_episodes: int,
    seed: int,
) -> tuple[dict[str, list[float]], dict[str, np.ndarray]]:
    """Evolves the same plastic network (inputs, hidden, 1) behind each named (spec, inputs) with the same ES
    budget and scores its center on `eval_episodes` fresh episodes: (learning curves, scores), printed as it goes."""
    import time

    curves, scores = {}, {}
    for name, (spec, n_in) in agents.items():
        net = PlasticNet((n_in, hidden, 1), rule)
        t0 = time.perf_counter()
        center, curves[name] = evolve(
            spec, net, generations=generations, population=population, episodes=episodes, seed=seed
        )
        scores[name] = evaluate(spec, net, center, eval_episodes, seed + 1)
        print(
            f"{name:>16}: center return {scores[name].mean():6.1f} +- {scores[name].std():5.1f} over "
            f"{eval_episodes} fresh episodes (max 500; {time.perf_counter() - t0:.0f} s)"
        )
    return curves, scores
