"""What defines a training run, importable without torch (the CLI builds its parser from these defaults).

`RULE_COEFFICIENTS` names the per-synapse coefficients of each plasticity rule (see `underact.agents.hebbian`
for the update and the genome layout); `TrainConfig` is saved as a run folder's `config.json`.
"""

from __future__ import annotations

import json
import math
import types
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import get_args, get_origin, get_type_hints

from underact.agents.es import ESConfig

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
    "init_std": (0.0, 1e3, False),
    "penalty": (0.0, 1e3, False),
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
    optimizer: str = "adam"  # "adam", "sgd" (momentum 0.9) or "plain" (no momentum)
    antithetic: bool = True
    init_std: float = 0.0  # the ES center starts at N(0, init_std²) (Najarro & Risi: 1)
    rank_std: bool = False  # centered ranks divided by their std (Najarro & Risi)
    penalty: float = 0.0  # fitness − penalty · mean(genome²) (Najarro & Risi: 0.01)
    rule_sharing: str = "none"  # "antidiagonal": synapses [j, i] with equal i + j share a rule (pre-fix code)
    seed: int = 0
    target_return: float | str = "auto"  # stop once the center reaches it; "auto": the env's reward_threshold
    target_margin: float = 0.01  # the verification on fresh episodes must beat target by this fraction of |target|
    eval_episodes: int = 100
    backend: str = "local"  # "local" or "ray"
    address: str | None = None
    workers: int = 2
    vectorization: str = "auto"
    env_kwargs: dict = field(default_factory=dict)
    # bodies: make() kwargs over env_kwargs; each individual's fitness is its mean return over all of them
    morphologies: list = field(default_factory=list)
    encoder: str | None = None  # "supcon:PATH" or "reformer:PATH": a frozen encoder and its observation wrappers

    def __post_init__(self) -> None:
        self.hidden = tuple(int(h) for h in self.hidden)

    def validate(self) -> None:
        """ValueError naming the first bad setting: types, names, finite numbers in range. Only the values are
        checked; whether the environment can be made, the encoder loaded and the sizes fit in memory is checked
        where a run starts (`underact.agents.build.check_resources`)."""
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
        if self.optimizer not in ("adam", "sgd", "plain"):
            raise ValueError(f"optimizer must be 'adam', 'sgd' or 'plain', got {self.optimizer!r}")
        if self.rule_sharing not in ("none", "antidiagonal"):
            raise ValueError(f"rule_sharing must be 'none' or 'antidiagonal', got {self.rule_sharing!r}")
        if self.backend not in ("local", "ray"):
            raise ValueError(f"backend must be 'local' or 'ray', got {self.backend!r}")
        if any(not 1 <= h <= MAX_COUNT for h in self.hidden):
            raise ValueError(f"hidden sizes must be between 1 and {MAX_COUNT}, got {self.hidden}")
        if isinstance(self.target_return, str):
            if self.target_return not in ("auto", "none"):
                raise ValueError(f"target_return must be a number, 'auto' or 'none', got {self.target_return!r}")
        elif not math.isfinite(self.target_return):
            raise ValueError(f"target_return must be a finite number, 'auto' or 'none', got {self.target_return}")
        if not isinstance(self.morphologies, list) or not all(isinstance(m, dict) for m in self.morphologies):
            raise ValueError(f"morphologies must be a list of JSON objects (make() kwargs), got {self.morphologies}")
        for what, value in (("env_kwargs", self.env_kwargs), ("morphologies", self.morphologies)):
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError):
                raise ValueError(f"{what} must hold finite numbers only (no NaN or infinity), got {value}") from None
        try:
            self.to_json()
        except ValueError:
            raise ValueError("the settings cannot be written as strict JSON (a NaN or infinity?)") from None

    def es_config(self) -> ESConfig:
        names = {f.name for f in fields(ESConfig)}
        return ESConfig(**{k: v for k, v in asdict(self).items() if k in names})

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
