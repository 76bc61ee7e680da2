"""What defines a training run, importable without torch (the CLI builds its parser from these defaults).

`RULE_COEFFICIENTS` names the per-synapse coefficients of each plasticity rule (see `underact.agents.hebbian`
for the update and the genome layout); `TrainConfig` is saved as a run folder's `config.json`.
"""

from __future__ import annotations

import json
import math
import types
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import TYPE_CHECKING, get_args, get_origin, get_type_hints

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
MAX_COUNT = 10**7  # upper bound of counts and layer sizes; memory is checked separately
# Real-valued settings: (lowest, highest, lowest excluded)
RANGES: dict[str, tuple[float, float, bool]] = {
    "init_scale": (0.0, 1e3, False),
    "sigma": (0.0, 1e3, True),
    "lr": (0.0, 1e3, True),
    "sigma_decay": (0.0, 1.0, True),
    "sigma_min": (0.0, 1e3, False),
    "lr_decay": (0.0, 1.0, True),
    "lr_min": (0.0, 1e3, False),
    "l2": (0.0, 1e3, False),
    "target_margin": (0.0, 1e3, False),
}


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
        """ValueError naming the first bad setting: types, finite numbers in range, sizes whose memory this
        machine has, and an environment (and encoder) that can be made with these settings."""
        from underact.agents.rollout import EnvSpec, check_memory, evaluation_bytes, space_sizes

        check_types(self)
        if self.rule not in RULES:
            raise ValueError(f"unknown rule {self.rule!r}; expected one of {', '.join(RULES)}")
        for name, low in (("population", 2), ("generations", 1), ("episodes", 1), ("eval_episodes", 1), ("workers", 1)):
            value = getattr(self, name)
            if not low <= value <= MAX_COUNT:
                raise ValueError(f"{name} must be between {low} and {MAX_COUNT}, got {value}")
        if self.antithetic and self.population % 2:
            raise ValueError(f"population {self.population} is odd; antithetic sampling needs an even population")
        if not 0 <= self.seed < 2**32:
            raise ValueError(f"seed must be between 0 and 2**32 - 1, got {self.seed}")
        for name, (low, high, low_open) in RANGES.items():
            value = getattr(self, name)
            if not math.isfinite(value) or value > high or value < low or (low_open and value == low):
                interval = f"{'(' if low_open else '['}{low}, {high}]"
                raise ValueError(f"{name} must be a finite number in {interval}, got {value}")
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {self.optimizer!r}")
        if self.backend not in ("local", "ray"):
            raise ValueError(f"backend must be 'local' or 'ray', got {self.backend!r}")
        if any(not 1 <= h <= MAX_COUNT for h in self.hidden):
            raise ValueError(f"hidden sizes must be between 1 and {MAX_COUNT}, got {self.hidden}")
        if isinstance(self.target_return, str):
            if self.target_return not in ("auto", "none"):
                raise ValueError(f"target_return must be a number, 'auto' or 'none', got {self.target_return!r}")
        elif not math.isfinite(self.target_return):
            raise ValueError(f"target_return must be a finite number, 'auto' or 'none', got {self.target_return}")
        try:
            self.to_json()
        except ValueError:
            raise ValueError(f"env_kwargs must hold finite numbers only, got {self.env_kwargs}") from None
        mode = EnvSpec(self.env, self.env_kwargs, self.vectorization).mode()
        if self.encoder is None:
            space_sizes(self.env, self.env_kwargs)
        net = self.net()  # with an encoder: loads the encoder file and makes the wrapped environment once
        es_bytes = 8 * net.num_params * (3 + 2 * self.population)  # center, Adam moments, the noise ε
        check_memory(
            f"population {self.population} x {self.episodes} episodes of a {net.num_params}-parameter network",
            es_bytes + evaluation_bytes(net, mode, self.population + 4, self.episodes),
            "use a smaller --hidden, --population or --episodes",
        )
        check_memory(
            f"the final evaluation over {self.eval_episodes} episodes",
            evaluation_bytes(net, mode, 1, self.eval_episodes),
            "use fewer --eval-episodes",
        )

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

    def to_json(self) -> str:
        """The config as config.json holds it; ValueError for non-finite numbers (JSON has none)."""
        return json.dumps(asdict(self), indent=2, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        """The config in `text`; ValueError naming the first unknown key or value of the wrong type."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown config keys {sorted(unknown)}")
        if isinstance(data.get("hidden"), list):
            data["hidden"] = tuple(data["hidden"])
        config = cls.__new__(cls)
        for f in fields(cls):
            default = f.default_factory() if f.default_factory is not MISSING else f.default
            setattr(config, f.name, data.get(f.name, default))
        check_types(config)
        return config


def _type_ok(value: object, hint: object) -> bool:
    if isinstance(hint, types.UnionType):
        return any(_type_ok(value, h) for h in get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if get_origin(hint) is tuple:
        return isinstance(value, tuple) and all(_type_ok(v, get_args(hint)[0]) for v in value)
    return isinstance(value, hint)


def check_types(config: TrainConfig) -> None:
    """ValueError naming the first setting whose value has the wrong type (as an edited config.json may)."""
    hints = get_type_hints(TrainConfig)
    for f in fields(TrainConfig):
        value = getattr(config, f.name)
        if not _type_ok(value, hints[f.name]):
            raise ValueError(f"{f.name} must be {hints[f.name]}, got {value!r}".replace("typing.", ""))


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
