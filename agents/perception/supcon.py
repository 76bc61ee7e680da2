"""Supervised contrastive learning (Khosla et al., NeurIPS 2020, arXiv 2004.11362): loss and encoder.

`supcon_loss` is Eq. 2 of the paper (L_out). `SupConEncoder` is a small CNN for frames [C, H, W] (or an MLP
for vectors [n]) with a projection head used only while training; `forward` returns the encoder's features
without the head, which is what a policy sees.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm import tqdm

from underact.agents.checkpoint import load_checkpoint, save_checkpoint


def supcon_loss(features: Tensor, labels: Tensor | None = None, temperature: float = 0.1) -> Tensor:
    """L_out of Khosla et al. (Eq. 2) for features [B, V, D] (B samples, V views each) and labels [B].

    Features are L2-normalised. For anchor i, the positives P(i) are the other views of its sample and all
    views of samples with the same label; the denominator A(i) is every view in the batch but i itself:
        L = mean_i  -1/|P(i)| sum_{p in P(i)} log( exp(z_i.z_p / t) / sum_{a in A(i)} exp(z_i.z_a / t) ),
    averaged over the anchors with at least one positive (the others are left out; 0 if none has one).
    `labels=None` is the self-supervised case: only a sample's own other views are positives.
    """
    if features.dim() != 3:
        raise ValueError(
            f"supcon_loss expects features of shape [B, V, D] (samples, views, dim), got {tuple(features.shape)}"
        )
    b, v, d = features.shape
    if labels is None:
        groups = torch.arange(b, device=features.device)
    else:
        groups = torch.as_tensor(labels, device=features.device)
        if groups.shape != (b,):
            raise ValueError(f"supcon_loss expects labels of shape [B] = [{b}], got {tuple(groups.shape)}")
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    z = F.normalize(features.reshape(b * v, d), dim=-1)  # anchors in sample-major order
    groups = groups.repeat_interleave(v)
    eye = torch.eye(b * v, dtype=torch.bool, device=features.device)
    positive = (groups[:, None] == groups[None, :]) & ~eye
    n_pos = positive.sum(dim=1)
    has_pos = n_pos > 0
    if not bool(has_pos.any()):
        return features.sum() * 0.0
    sim = (z @ z.T / temperature).masked_fill(eye, float("-inf"))  # [BV, BV], self excluded from A(i)
    log_prob = sim[has_pos] - sim[has_pos].logsumexp(dim=1, keepdim=True)
    mean_pos = log_prob.masked_fill(~positive[has_pos], 0.0).sum(dim=1) / n_pos[has_pos]
    return -mean_pos.mean()


def augment_frames(x: Tensor, generator: torch.Generator, max_shift: int | None = None) -> Tensor:
    """Random translation (edge padding, up to `max_shift` px, default max(1, H // 16)), contrast and noise.

    x [B, C, H, W] -> [B, C, H, W]; one draw per sample, all in batched tensor operations.
    """
    b, c, h, w = x.shape
    s = max(1, h // 16) if max_shift is None else max_shift
    padded = F.pad(x, (s, s, s, s), mode="replicate")
    dy = torch.randint(0, 2 * s + 1, (b, 1), generator=generator)
    dx = torch.randint(0, 2 * s + 1, (b, 1), generator=generator)
    rows = (torch.arange(h)[None, :] + dy)[:, None, :, None]  # [B, 1, H, 1]
    cols = (torch.arange(w)[None, :] + dx)[:, None, None, :]  # [B, 1, 1, W]
    shifted = padded[torch.arange(b)[:, None, None, None], torch.arange(c)[None, :, None, None], rows, cols]
    contrast = 1.0 + 0.2 * (torch.rand(b, 1, 1, 1, generator=generator) - 0.5)
    noise = 0.05 * torch.randn(shifted.shape, generator=generator)
    return shifted * contrast + noise


def augment_vectors(x: Tensor, generator: torch.Generator) -> Tensor:
    """Gaussian noise (0.1 of unit scale) and 10 % feature dropout: x [B, n] -> [B, n]."""
    keep = (torch.rand(x.shape, generator=generator) >= 0.1).to(x.dtype)
    return (x + 0.1 * torch.randn(x.shape, generator=generator)) * keep


def _conv_backbone(shape: tuple[int, int, int], width: int, feature_dim: int) -> nn.Sequential:
    """3x3 conv, then stride-2 3x3 convs until the map is at most 6 px, flatten, linear."""
    c, h, w = shape
    layers: list[nn.Module] = [nn.Conv2d(c, width, 3, padding=1), nn.ReLU()]
    channels = width
    while max(h, w) > 6:
        layers += [nn.Conv2d(channels, 2 * width, 3, stride=2, padding=1), nn.ReLU()]
        channels, h, w = 2 * width, (h + 1) // 2, (w + 1) // 2
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels * h * w, feature_dim), nn.ReLU())


class SupConEncoder(nn.Module):
    """Encoder trained with `supcon_loss`: frames [B, C, H, W] or vectors [B, n] -> features [B, feature_dim].

    Args:
        input_shape: (C, H, W) for frames (a CNN) or (n,) for vectors (an MLP).
        feature_dim: width of the features the policy sees.
        proj_dim: width of the projection head's output (training only).
        width: channels of the first conv layer (or hidden units of the MLP / 4).
    """

    def __init__(
        self, input_shape: tuple[int, ...], feature_dim: int = 64, proj_dim: int = 32, width: int = 16
    ) -> None:
        super().__init__()
        self.config = {
            "input_shape": list(input_shape),
            "feature_dim": feature_dim,
            "proj_dim": proj_dim,
            "width": width,
        }
        self.input_shape = tuple(int(s) for s in input_shape)
        if len(self.input_shape) == 3:
            self.backbone = _conv_backbone(self.input_shape, width, feature_dim)
        elif len(self.input_shape) == 1:
            hidden = 4 * width
            self.backbone = nn.Sequential(
                nn.Linear(self.input_shape[0], hidden), nn.ReLU(), nn.Linear(hidden, feature_dim), nn.ReLU()
            )
        else:
            raise ValueError(f"input_shape must be (C, H, W) or (n,), got {input_shape}")
        self.head = nn.Sequential(nn.Linear(feature_dim, feature_dim), nn.ReLU(), nn.Linear(feature_dim, proj_dim))
        # Per-feature standardisation of `forward`'s output, set by `fit` from its training data (identity before).
        self.register_buffer("feature_mean", torch.zeros(feature_dim))
        self.register_buffer("feature_std", torch.ones(feature_dim))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        for name in ("feature_mean", "feature_std"):  # files saved before features were standardised: identity
            state_dict.setdefault(prefix + name, getattr(self, name).clone())
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _check(self, x: Tensor) -> None:
        if tuple(x.shape[1:]) != self.input_shape or x.dim() != len(self.input_shape) + 1:
            want = ", ".join(str(s) for s in self.input_shape)
            raise ValueError(f"SupConEncoder expects input of shape [B, {want}], got {tuple(x.shape)}")

    def forward(self, x: Tensor) -> Tensor:
        """Features without the projection head, standardised: x [B, *input_shape] -> [B, feature_dim].

        After `fit`, each feature has mean 0 and standard deviation 1 over the training data (a feature that
        is constant there is 0), so a policy behind the encoder sees inputs of a known scale."""
        self._check(x)
        return (self.backbone(x) - self.feature_mean) / self.feature_std

    def project(self, x: Tensor) -> Tensor:
        """Projection-head output used by the loss: x [B, *input_shape] -> [B, proj_dim]."""
        self._check(x)
        return self.head(self.backbone(x))

    @torch.no_grad()
    def standardise(self, x: Tensor, batch_size: int = 1024) -> None:
        """Sets the per-feature mean and standard deviation that `forward` removes, from the backbone on x."""
        self._check(x)
        features = torch.cat([self.backbone(x[i : i + batch_size]) for i in range(0, x.shape[0], batch_size)])
        std = features.std(dim=0, unbiased=False)
        self.feature_mean.copy_(features.mean(dim=0))
        self.feature_std.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)))

    def default_augment(self) -> Callable[[Tensor, torch.Generator], Tensor]:
        return augment_frames if len(self.input_shape) == 3 else augment_vectors

    def fit(
        self,
        x: Tensor,
        labels: Tensor | None,
        *,
        epochs: int = 30,
        batch_size: int = 256,
        views: int = 2,
        lr: float = 1e-3,
        temperature: float = 0.1,
        augment: Callable[[Tensor, torch.Generator], Tensor] | None = None,
        seed: int = 0,
        progress: bool = True,
    ) -> list[float]:
        """Train encoder and head with `supcon_loss` on `views` augmented views per sample.

        Returns the mean loss per epoch. x [N, *input_shape], labels [N] (or None: self-supervised). Afterwards the
        encoder is in eval mode and its features are standardised over x (see `forward`).
        `augment(batch, generator)` makes one view; the default is `augment_frames` for frames and
        `augment_vectors` for vectors. Seeded: the same seed, data and initial weights give the same result.
        """
        self._check(x)
        if labels is not None:
            labels = torch.as_tensor(labels)
            if labels.shape != (x.shape[0],):
                raise ValueError(f"labels must have shape [N] = [{x.shape[0]}], got {tuple(labels.shape)}")
        if views < 1 or epochs < 1 or batch_size < 1:
            raise ValueError("views, epochs and batch_size must be positive")
        augment = self.default_augment() if augment is None else augment
        generator = torch.Generator().manual_seed(seed)
        optimiser = torch.optim.Adam(self.parameters(), lr=lr)
        history = []
        self.train()
        for _ in tqdm(range(epochs), desc="supcon", disable=not progress, file=sys.stderr):
            perm = torch.randperm(x.shape[0], generator=generator)
            total, count = 0.0, 0
            for start in range(0, x.shape[0], batch_size):
                idx = perm[start : start + batch_size]
                batch = x[idx]
                stacked = torch.cat([augment(batch, generator) for _ in range(views)])  # [V * b, ...]
                z = self.project(stacked).view(views, len(idx), -1).transpose(0, 1)  # [b, V, proj]
                loss = supcon_loss(z, None if labels is None else labels[idx], temperature)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total, count = total + loss.item() * len(idx), count + len(idx)
            history.append(total / count)
        self.eval()
        self.standardise(x)
        return history

    def save(self, path: str | Path) -> None:
        """Weights and configuration in one checkpoint file (`underact.agents.checkpoint`, kind "supcon"; an
        encoder file for `underact train --encoder` also needs its observation recipe: `save_encoder`)."""
        state = {k: v.detach().cpu().numpy() for k, v in self.state_dict().items()}
        save_checkpoint(path, state, {"kind": "supcon", "supcon_config": json.dumps(self.config)})

    @classmethod
    def load(cls, path: str | Path) -> SupConEncoder:
        """An encoder saved by `save` (or `save_encoder`), in eval mode; ValueError naming a file that is not one."""
        arrays, meta = load_checkpoint(path, "supcon", legacy_keys=("supcon_config",), what="SupConEncoder file")
        if "supcon_config" not in meta:
            raise ValueError(f"{path}: not a SupConEncoder file (no 'supcon_config' metadata); save one with .save()")
        config = json.loads(meta["supcon_config"])
        encoder = cls(tuple(config.pop("input_shape")), **config)
        encoder.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()})
        return encoder.eval()
