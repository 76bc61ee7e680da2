"""Encoder files for `underact train --encoder`: a frozen encoder plus the observation wrappers it was trained behind.

An encoder file is one safetensors file holding the weights and, in its metadata, the observation recipe, so a
run cannot pair an encoder with the wrong observations:

- `supcon:PATH`, a `SupConEncoder` over frames. Recipe: render (`render_mode="rgb_array"`, width, height and
  `follow`, the cart-following camera), keep the last `history` frames, make each grey in [0, 1] and stack them
  as channels: the encoder sees [N, history, H, W] and the agent its features [N, feature_dim].
- `reformer:PATH`, a `VelocityEstimator` (a causal Reformer over the last `history` position observations of an
  environment with hidden velocities). The agent sees [positions, estimated velocities], [N, n_pos + 2].

    encoder = load_encoder("supcon:runs/enc.safetensors")
    spec = EncodedEnvSpec(ENV_ID, {**encoder.env_kwargs, **kwargs}, wrap=encoder.wrap)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from gymnasium.vector import VectorEnv
from torch import nn

from underact.agents.checkpoint import load_checkpoint, save_checkpoint
from underact.agents.perception.encoded import VectorEncodedObservation
from underact.agents.perception.reformer import ReformerEncoder
from underact.agents.perception.supcon import SupConEncoder
from underact.envs.wrappers import VectorHiddenVelocity, VectorObservationHistory, VectorPixelObservation

KINDS = ("supcon", "reformer")
RECIPE_KEY = "underact_observation"
MAX_HISTORY = 4096  # observations an encoder looks back over, and position features per observation
MAX_FRAME = 2048  # pixels on a side of a rendered frame


def grey_stack(frames: np.ndarray) -> torch.Tensor:
    """uint8 frame histories [N, k, H, W, 3] -> grey channels [N, k, H, W] float32 in [0, 1]."""
    return torch.from_numpy(np.asarray(frames, dtype=np.float32).mean(-1) / 255.0)


class VelocityEstimator(nn.Module):
    """Position history [B, k, n_pos] -> the velocities at the newest step [B, 2], through a causal Reformer."""

    def __init__(self, k: int, dim: int, bucket_size: int, n_pos: int = 3) -> None:
        super().__init__()
        self.config = {"k": k, "dim": dim, "bucket_size": bucket_size, "n_pos": n_pos}
        self.embed = nn.Linear(n_pos, dim)
        self.position = nn.Parameter(0.02 * torch.randn(k, dim))
        self.encoder = ReformerEncoder(dim, depth=2, heads=2, bucket_size=bucket_size, n_hashes=2, causal=True)
        self.readout = nn.Linear(dim, 2)
        self.register_buffer("scale", torch.ones(2))

    def forward(self, history: torch.Tensor) -> torch.Tensor:
        h = self.encoder(self.embed(history) + self.position)  # [B, k, dim]
        return self.readout(h[:, -1]) * self.scale


def save_encoder(model: SupConEncoder | VelocityEstimator, path: str | Path, recipe: dict) -> None:
    """Writes weights, the model's configuration and the observation `recipe` to one checkpoint file
    (`underact.agents.checkpoint`: atomic, checksummed).

    SupCon recipe: {"history": k, "env_kwargs": {"width": W, "height": H, "follow": metres or None}};
    Reformer recipe: {} (the history length is the estimator's k).
    """
    kind = "supcon" if isinstance(model, SupConEncoder) else "reformer"
    meta = {"kind": kind, f"{kind}_config": json.dumps(model.config), RECIPE_KEY: json.dumps(recipe)}
    save_checkpoint(path, state_arrays(model), meta)


def state_arrays(model: nn.Module) -> dict[str, np.ndarray]:
    """The model's state dict as numpy arrays, the form a checkpoint stores."""
    return {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}


@dataclass
class LoadedEncoder:
    """A frozen encoder ready to wrap vector environments: `wrap(env)` and the env kwargs it needs."""

    kind: str
    feature_dim: int
    env_kwargs: dict = field(default_factory=dict)
    wrap: Callable[[VectorEnv], VectorEnv] = field(default=lambda env: env)
    model: nn.Module | None = None  # the frozen encoder itself (SupConEncoder or VelocityEstimator)


def parse_encoder(text: str) -> tuple[str, Path]:
    """'supcon:PATH' or 'reformer:PATH' -> (kind, path); ValueError naming the expected form."""
    kind, sep, path = text.partition(":")
    if not sep or kind not in KINDS or not path:
        raise ValueError(f"encoder must be supcon:PATH or reformer:PATH, got {text!r}")
    return kind, Path(path)


def _read(path: Path, kind: str) -> tuple[dict, dict, dict[str, torch.Tensor]]:
    arrays, meta = load_checkpoint(path, legacy_keys=("kind", RECIPE_KEY), what="encoder file")
    if meta.get("kind") != kind or RECIPE_KEY not in meta:
        raise ValueError(f"{path}: not a {kind} encoder file (write one with save_encoder)")
    state = {k: torch.from_numpy(v) for k, v in arrays.items()}
    parsed = []
    for key in (f"{kind}_config", RECIPE_KEY):
        try:
            value = json.loads(meta[key])
        except KeyError:
            raise ValueError(f"{path}: encoder metadata lacks {key!r} (write the file with save_encoder)") from None
        except json.JSONDecodeError:
            raise ValueError(f"{path}: encoder metadata {key!r} is not JSON") from None
        if not isinstance(value, dict):
            raise ValueError(f"{path}: encoder metadata {key!r} must be a JSON object, got {value!r}")
        parsed.append(value)
    return parsed[0], parsed[1], state


def _setting(table: dict, key: str, path: Path, where: str, high: int) -> int:
    """table[key] as an int in [1, high]; ValueError naming the file and the key."""
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise ValueError(f"{path}: {where} {key!r} must be an integer in [1, {high}], got {value!r}")
    return value


def _frozen(build: Callable[[], nn.Module], state: dict[str, torch.Tensor], path: Path) -> nn.Module:
    """The model `build()` makes, with the file's weights, frozen. It is first built without memory (torch's
    meta device) and its tensor shapes compared with the file's, so a configuration that does not match the
    stored weights (e.g. a huge width) is refused before anything is allocated."""
    try:
        with torch.device("meta"):
            shapes = {k: tuple(v.shape) for k, v in build().state_dict().items()}
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{path}: unusable encoder configuration ({exc})") from None
    stored = {k: tuple(v.shape) for k, v in state.items()}
    if any(stored.get(k, shape) != shape for k, shape in shapes.items()) or not set(stored) <= set(shapes):
        raise ValueError(f"{path}: weights do not match the stored configuration")
    model = build()
    try:
        model.load_state_dict(state)
    except RuntimeError:
        raise ValueError(f"{path}: weights do not match the stored configuration") from None
    return model.eval().requires_grad_(False)


def load_encoder(text: str) -> LoadedEncoder:
    """The encoder named by 'supcon:PATH' or 'reformer:PATH', frozen, with its observation wrappers."""
    kind, path = parse_encoder(text)
    config, recipe, state = _read(path, kind)
    if kind == "supcon":
        config = dict(config)
        k = _setting(recipe, "history", path, "recipe", MAX_HISTORY)
        frame = recipe.get("env_kwargs")
        if not isinstance(frame, dict):
            raise ValueError(f"{path}: recipe 'env_kwargs' must be a JSON object, got {frame!r}")
        shape = [k] + [_setting(frame, key, path, "recipe env_kwargs", MAX_FRAME) for key in ("height", "width")]
        if config.get("input_shape") != shape:
            raise ValueError(f"{path}: encoder input_shape {config.get('input_shape')} is not [history, height, width]")
        config.pop("input_shape")
        encoder = _frozen(lambda: SupConEncoder(tuple(shape), **config), state, path)
        dim = int(encoder.config["feature_dim"])

        def encode(history: np.ndarray) -> np.ndarray:  # [N, k, H, W, 3] -> [N, dim]
            with torch.no_grad():
                return encoder(grey_stack(history)).numpy()

        kwargs = {"render_mode": "rgb_array", **recipe["env_kwargs"]}
        return LoadedEncoder(
            kind,
            dim,
            kwargs,
            lambda env: VectorEncodedObservation(VectorObservationHistory(VectorPixelObservation(env), k), encode, dim),
            encoder,
        )
    k = _setting(config, "k", path, "reformer_config", MAX_HISTORY)
    n_pos = _setting(config, "n_pos", path, "reformer_config", MAX_HISTORY)
    model = _frozen(lambda: VelocityEstimator(**config), state, path)

    def estimate(history: np.ndarray) -> np.ndarray:  # [N, k, n_pos] -> [N, n_pos + 2]
        with torch.no_grad():
            velocity = model(torch.from_numpy(np.asarray(history, dtype=np.float32))).numpy()
        return np.concatenate([history[:, -1], velocity], axis=1)

    return LoadedEncoder(
        kind,
        n_pos + 2,
        {},
        lambda env: VectorEncodedObservation(
            VectorObservationHistory(VectorHiddenVelocity(env), k), estimate, n_pos + 2
        ),
        model,
    )
