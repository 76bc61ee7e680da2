"""What defines a training run, importable without torch (the CLI builds its parser from these defaults).

`RULE_COEFFICIENTS` names the per-synapse coefficients of each plasticity rule (see `underact.agents.hebbian`
for the update and the genome layout); `TrainConfig` is saved as a run folder's `config.json`.
"""

from __future__ import annotations

import json
import math
import types
from dataclasses import MISSING, Field, asdict, dataclass, field, fields
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
    """Everything that defines a training run (saved as the run folder's config.json).

    Each field's `metadata` declares its `underact train` flag: "help" (where "{default}" stands for the default),
    and where needed "flag" (a spelling other than --field-name), "type" (the name of a type in
    `underact.cli.argtypes`), "choices", "metavar". "cli": False marks a field that is no flag. A bool field's flag
    is a switch that sets the opposite of its default."""

    env: str = field(default="CartPole-v1", metadata={
        "help": "Gymnasium id (default {default}); underact/... ids included"})
    rule: str = field(default="ABCD_lr", metadata={"help": f"one of {', '.join(RULES)} (default {{default}})"})
    # (16,) solved CartPole-v1 fastest among sizes with a hidden layer (README)
    hidden: tuple[int, ...] = field(default=(16,), metadata={
        "help": "hidden layer sizes, e.g. 128,64, or none for no hidden layer (default {default})",
        "type": "layer_sizes"})
    norm: bool = field(default=False, metadata={"help": "normalise each layer's weights by their max |w| every step"})
    init_scale: float = field(default=0.1, metadata={"cli": False})
    population: int = field(default=64, metadata={"help": "default {default}"})
    generations: int = field(default=100, metadata={"help": "default {default}"})
    episodes: int = field(default=4, metadata={"help": "episodes per individual (default {default})"})
    sigma: float = field(default=0.1, metadata={"help": "ES noise std (default {default})"})
    lr: float = field(default=0.05, metadata={"help": "ES step size (default {default})"})
    sigma_decay: float = field(default=0.999, metadata={"help": "default {default}"})
    sigma_min: float = field(default=0.01, metadata={"cli": False})
    lr_decay: float = field(default=0.999, metadata={"help": "default {default}"})
    lr_min: float = field(default=0.001, metadata={"cli": False})
    l2: float = field(default=0.0, metadata={"help": "L2 penalty on the center (default {default})"})
    # "adam", "sgd" (momentum 0.9) or "plain" (no momentum, not offered on the command line)
    optimizer: str = field(default="adam", metadata={"help": "default {default}", "choices": ("adam", "sgd")})
    antithetic: bool = field(default=True, metadata={
        "help": "plain Gaussian sampling instead of mirrored", "flag": "--no-antithetic"})
    # the ES center starts at N(0, init_std²) (Najarro & Risi: 1)
    init_std: float = field(default=0.0, metadata={"cli": False})
    # centered ranks divided by their std (Najarro & Risi)
    rank_std: bool = field(default=False, metadata={"cli": False})
    # fitness − penalty · mean(genome²) (Najarro & Risi: 0.01)
    penalty: float = field(default=0.0, metadata={"cli": False})
    # "antidiagonal": synapses [j, i] with equal i + j share a rule (pre-fix code)
    rule_sharing: str = field(default="none", metadata={"cli": False})
    seed: int = field(default=0, metadata={"help": "default {default}"})
    # stop once the center reaches it; "auto": the env's reward_threshold
    target_return: float | str = field(default="auto", metadata={
        "help": "stop once the ES center's mean return reaches this: a number, 'none', or 'auto' (the environment's "
        "reward_threshold, e.g. 475 for CartPole-v1; the default)",
        "type": "target_return"})
    # the verification on fresh episodes must beat target by this fraction of |target|
    target_margin: float = field(default=0.01, metadata={"cli": False})
    eval_episodes: int = field(default=100, metadata={
        "help": "fresh-weight episodes for the final evaluation (default {default})"})
    backend: str = field(default="local", metadata={"help": "default {default}", "choices": ("local", "ray")})
    address: str | None = field(default=None, metadata={"help": "Ray cluster address (ray.init(address=...))"})
    workers: int = field(default=2, metadata={"help": "Ray workers (default {default})"})
    vectorization: str = field(default="auto", metadata={
        "help": "vector environment: native vector_entry_point (auto when available), sync or async",
        "choices": ("auto", "native", "sync", "async")})
    env_kwargs: dict = field(default_factory=dict, metadata={
        "help": "JSON object of make() keyword arguments (default {})", "type": "json_object"})
    # bodies: make() kwargs over env_kwargs; each individual's fitness is its mean return over all of them
    morphologies: list = field(default_factory=list, metadata={
        "help": "JSON list of bodies, each a JSON object of make() keyword arguments over --env-kwargs, e.g. "
        "'[{\"damage\": null}, {\"damage\": \"front_right\"}]'; fitness is the mean return over them",
        "type": "json_objects"})
    # "supcon:PATH" or "reformer:PATH": a frozen encoder and its observation wrappers
    encoder: str | None = field(default=None, metadata={
        "help": "a frozen encoder file in front of the agent; it carries its observation wrappers (supcon: rendered "
        "frames, grey, the last k stacked; reformer: hidden velocities, the last k positions) "
        "(see underact.agents.perception.pipeline)",
        "type": "encoder", "metavar": "supcon:PATH|reformer:PATH"})

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


def flag_name(f: Field) -> str:
    """The `underact train` flag of a `TrainConfig` field: its metadata's "flag", or --field-name."""
    return f.metadata.get("flag", "--" + f.name.replace("_", "-"))


def flag_of(name: str) -> str:
    """The flag of the `TrainConfig` field called `name`."""
    return flag_name(next(f for f in fields(TrainConfig) if f.name == name))


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
