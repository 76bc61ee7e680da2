"""OpenAI evolution strategy (Salimans et al. 2017, arXiv:1703.03864) with an ask / tell surface.

The strategy knows nothing about environments: `ask()` returns a population of flat parameter vectors
[P, G], `tell(fitness)` takes their fitness (higher is better) and moves the search distribution's center.

- Antithetic (mirrored) sampling: rows 2k and 2k+1 are center + σε_k and center − σε_k.
- Centered-rank fitness shaping: ranks mapped linearly to [−0.5, 0.5], ties sharing their average rank.
- Gradient estimate g = Σ_p F̂_p ε_p / (P σ) − l2 · center, applied by Adam (Kingma & Ba 2015) or SGD
  with momentum, ascending.
- Step size and σ decay multiplicatively after every `tell`, down to `lr_min` / `sigma_min`.
- Options of Najarro & Risi (2020)'s ES: `rank_std` divides the centered ranks by their standard deviation,
  `penalty` adds −penalty · mean(genome²) to each individual's fitness before ranking, `optimizer="plain"` is
  SGD without momentum (center += lr · g).

All randomness comes from one numpy Generator seeded by `seed`; `state_dict()` holds it, so a strategy
restored with `load_state_dict` continues exactly as the original would have.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class ESConfig:
    """Hyper-parameters of OpenAI-ES."""

    population: int = 64
    sigma: float = 0.1
    lr: float = 0.2
    sigma_decay: float = 0.999
    sigma_min: float = 0.01
    lr_decay: float = 0.999
    lr_min: float = 0.001
    l2: float = 0.0
    optimizer: str = "adam"  # "adam", "sgd" (with momentum 0.9) or "plain" (SGD without momentum)
    antithetic: bool = True
    init_std: float = 0.0  # center starts at N(0, init_std²); 0 starts at the origin
    seed: int = 0
    rank_std: bool = False  # centered ranks divided by their standard deviation
    penalty: float = 0.0  # fitness − penalty · mean(genome²), per individual, before ranking


def centered_ranks(fitness: np.ndarray) -> np.ndarray:
    """Ranks of `fitness` mapped linearly to [−0.5, 0.5]; tied values share their average rank.

    Sharing matters: many individuals tie at an episode-length cap, and breaking ties by position would
    push the center along the noise of whichever mirrored half comes first.
    """
    fitness = np.asarray(fitness, dtype=np.float64)
    n = fitness.size
    if n < 2:
        return np.zeros(n)
    order = np.argsort(fitness, kind="stable")
    ordered = fitness[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])  # first position of each run of ties
    ends = np.r_[starts[1:], n]
    ranks = np.empty(n)
    ranks[order] = np.repeat((starts + ends - 1) / 2, ends - starts)  # a run's average 0-based rank
    return ranks / (n - 1) - 0.5


class OpenAIES:
    """OpenAI-ES over `num_params`-dimensional vectors (float64 internally, float32 on `ask`)."""

    def __init__(self, num_params: int, config: ESConfig):
        if config.population < 2:
            raise ValueError(f"population must be at least 2, got {config.population}")
        if config.antithetic and config.population % 2:
            raise ValueError(
                f"population must be even with antithetic sampling, got {config.population}; "
                "use an even population or turn antithetic sampling off"
            )
        if config.optimizer not in ("adam", "sgd", "plain"):
            raise ValueError(f"optimizer must be 'adam', 'sgd' or 'plain', got {config.optimizer!r}")
        if config.sigma <= 0 or config.lr <= 0:
            raise ValueError(f"sigma and lr must be positive, got sigma={config.sigma}, lr={config.lr}")
        self.config = config
        self.num_params = int(num_params)
        self.rng = np.random.default_rng(config.seed)
        self.center = self.rng.normal(0.0, 1.0, self.num_params) * config.init_std
        self.sigma = config.sigma
        self.lr = config.lr
        self.m = np.zeros(self.num_params)
        self.v = np.zeros(self.num_params)
        self.t = 0
        self._eps: np.ndarray | None = None

    def ask(self) -> np.ndarray:
        """Samples the next population [P, G] around the center."""
        p = self.config.population
        if self.config.antithetic:
            half = self.rng.standard_normal((p // 2, self.num_params))
            eps = np.empty((p, self.num_params))
            eps[0::2], eps[1::2] = half, -half
        else:
            eps = self.rng.standard_normal((p, self.num_params))
        self._eps = eps
        return (self.center + self.sigma * eps).astype(np.float32)

    def tell(self, fitness: np.ndarray) -> None:
        """Updates the center from the fitness [P] of the population returned by the last `ask`."""
        if self._eps is None:
            raise ValueError("tell() needs a preceding ask()")
        fitness = np.asarray(fitness, dtype=np.float64)
        if fitness.shape != (self.config.population,) or not np.all(np.isfinite(fitness)):
            raise ValueError(f"fitness must be {self.config.population} finite numbers, got {fitness.shape}")
        if self.config.penalty:
            genomes = self.center + self.sigma * self._eps  # as `ask` gave them (before its float32 cast)
            fitness = fitness - self.config.penalty * np.mean(genomes**2, axis=1)
        shaped = centered_ranks(fitness)
        if self.config.rank_std and shaped.std() > 0:
            shaped = shaped / shaped.std()
        grad = shaped @ self._eps / (self.config.population * self.sigma) - self.config.l2 * self.center
        self.t += 1
        if self.config.optimizer == "adam":
            b1, b2 = 0.9, 0.999
            self.m = b1 * self.m + (1 - b1) * grad
            self.v = b2 * self.v + (1 - b2) * grad**2
            m_hat = self.m / (1 - b1**self.t)
            v_hat = self.v / (1 - b2**self.t)
            self.center = self.center + self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)
        elif self.config.optimizer == "plain":
            self.center = self.center + self.lr * grad
        else:
            self.m = 0.9 * self.m + grad
            self.center = self.center + self.lr * self.m
        self.sigma = max(self.config.sigma_min, self.sigma * self.config.sigma_decay)
        self.lr = max(self.config.lr_min, self.lr * self.config.lr_decay)
        self._eps = None

    def state_dict(self) -> tuple[dict[str, np.ndarray], dict[str, str]]:
        """(arrays, strings) that restore this strategy exactly; strings hold the config and RNG state."""
        arrays = {"center": self.center, "adam_m": self.m, "adam_v": self.v}
        strings = {
            "es_config": json.dumps(asdict(self.config)),
            "es_scalars": json.dumps({"sigma": self.sigma, "lr": self.lr, "t": self.t}),
            "es_rng": json.dumps(self.rng.bit_generator.state),
        }
        return arrays, strings

    @classmethod
    def from_state_dict(cls, arrays: dict[str, np.ndarray], strings: dict[str, str]) -> OpenAIES:
        """Rebuilds a strategy saved by `state_dict`."""
        es = cls(int(arrays["center"].size), ESConfig(**json.loads(strings["es_config"])))
        es.center = np.array(arrays["center"], dtype=np.float64)
        es.m = np.array(arrays["adam_m"], dtype=np.float64)
        es.v = np.array(arrays["adam_v"], dtype=np.float64)
        scalars = json.loads(strings["es_scalars"])
        es.sigma, es.lr, es.t = float(scalars["sigma"]), float(scalars["lr"]), int(scalars["t"])
        es.rng.bit_generator.state = json.loads(strings["es_rng"])
        return es
