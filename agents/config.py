"""What defines a training run, importable without torch (the CLI builds its parser from these defaults).

`RULE_COEFFICIENTS` names the per-synapse coefficients of each plasticity rule (see `underact.agents.hebbian`
for the update and the genome layout); `TrainConfig` is saved as a run folder's `config.json`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING

from underact.agents.es import ESConfig

if TYPE_CHECKING:
    from underact.agents.hebbian import PlasticNet
    from underact.agents.rollout import EnvSpec

RULE_COEFFICIENTS: dict[str, tuple[str, ...]] = {
    "static": ("W",),
    "A": ("A",),
    "AD": ("A", "D"),
    "ABC": ("A", "B", "C"),
    "ABCD": ("A", "B", "C", "D"),
    "ABCD_lr": ("A", "B", "C", "D", "eta"),
}
RULES: tuple[str, ...] = tuple(RULE_COEFFICIENTS)


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved as the run folder's config.json)."""

    env: str = "CartPole-v1"
    rule: str = "ABCD_lr"
    hidden: tuple[int, ...] = (16,)  # solved CartPole-v1 fastest among sizes with a hidden layer (README)
    norm: bool = False
    init_scale: float = 0.1
    population: int = 64
    generations: int = 100
    episodes: int = 4
    sigma: float = 0.1
    lr: float = 0.05
    sigma_decay: float = 0.999
    sigma_min: float = 0.01
    lr_decay: float = 0.999
    lr_min: float = 0.001
    l2: float = 0.0
    optimizer: str = "adam"
    antithetic: bool = True
    seed: int = 0
    target_return: float | str = "auto"  # stop once the center reaches it; "auto": the env's reward_threshold
    target_margin: float = 0.01  # the verification on fresh episodes must beat target by this fraction of |target|
    eval_episodes: int = 100
    backend: str = "local"  # "local" or "ray"
    address: str | None = None
    workers: int = 2
    vectorization: str = "auto"
    env_kwargs: dict = field(default_factory=dict)
    encoder: str | None = None  # "supcon:PATH" or "reformer:PATH": a frozen encoder and its observation wrappers

    def __post_init__(self) -> None:
        self.hidden = tuple(int(h) for h in self.hidden)

    def validate(self) -> None:
        """ValueError naming the first bad setting."""
        from underact.agents.rollout import EnvSpec, space_sizes

        if self.rule not in RULES:
            raise ValueError(f"unknown rule {self.rule!r}; expected one of {', '.join(RULES)}")
        if self.antithetic and self.population % 2:
            raise ValueError(f"population {self.population} is odd; antithetic sampling needs an even population")
        for name in ("population", "generations", "episodes", "eval_episodes", "workers"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.backend not in ("local", "ray"):
            raise ValueError(f"backend must be 'local' or 'ray', got {self.backend!r}")
        if any(h < 1 for h in self.hidden):
            raise ValueError(f"hidden sizes must be positive, got {self.hidden}")
        if isinstance(self.target_return, str) and self.target_return not in ("auto", "none"):
            raise ValueError(f"target_return must be a number, 'auto' or 'none', got {self.target_return!r}")
        if self.encoder is None:
            space_sizes(self.env, self.env_kwargs)
        else:
            self.net()  # loads the encoder file and makes the wrapped environment once
        EnvSpec(self.env, self.env_kwargs, self.vectorization).mode()

    def target(self) -> float | None:
        """The center return at which training stops early, or None."""
        if self.target_return == "auto":
            from underact.agents.rollout import check_env_id

            threshold = check_env_id(self.env).reward_threshold
            return None if threshold is None else float(threshold)
        if self.target_return == "none":
            return None
        return float(self.target_return)

    def es_config(self) -> ESConfig:
        names = {f.name for f in fields(ESConfig)}
        return ESConfig(**{k: v for k, v in asdict(self).items() if k in names})

    def env_spec(self) -> EnvSpec:
        """The environments the agents act in; with an encoder, wrapped by it (an `EncodedEnvSpec`)."""
        from underact.agents.rollout import EnvSpec

        if self.encoder is None:
            return EnvSpec(self.env, dict(self.env_kwargs), self.vectorization)
        from underact.agents.perception.encoded import EncodedEnvSpec
        from underact.agents.perception.pipeline import load_encoder

        encoder = load_encoder(self.encoder)
        clash = {k for k, v in encoder.env_kwargs.items() if k in self.env_kwargs and self.env_kwargs[k] != v}
        if clash:
            raise ValueError(
                f"env_kwargs {sorted(clash)} differ from the ones encoder {self.encoder} was trained with "
                f"({ {k: encoder.env_kwargs[k] for k in sorted(clash)} }); leave them out"
            )
        kwargs = {**self.env_kwargs, **encoder.env_kwargs}
        return EncodedEnvSpec(self.env, kwargs, self.vectorization, wrap=encoder.wrap)

    def net(self) -> PlasticNet:
        """The plastic network; its input size is the (wrapped) environment's observation size."""
        from underact.agents.hebbian import PlasticNet
        from underact.agents.rollout import space_sizes

        if self.encoder is None:
            n_in, n_out = space_sizes(self.env, self.env_kwargs)
        else:
            n_in, n_out = encoded_sizes(self.env_spec())
        return PlasticNet((n_in, *self.hidden, n_out), self.rule, self.norm, self.init_scale)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown config keys {sorted(unknown)}")
        return cls(**data)


def encoded_sizes(spec: EnvSpec) -> tuple[int, int]:
    """(observation size, network output size) of one copy of `spec`'s wrapped vector environment."""
    import gymnasium as gym

    env = spec.make(1)
    try:
        obs, act = env.single_observation_space, env.single_action_space
    finally:
        env.close()
    if not isinstance(obs, gym.spaces.Box) or len(obs.shape) != 1:
        raise ValueError(f"{spec.env_id}: the encoder must give flat feature vectors, got {obs}")
    if isinstance(act, gym.spaces.Discrete):
        return obs.shape[0], int(act.n)
    return obs.shape[0], act.shape[0]
