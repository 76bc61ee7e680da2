"""Benchmark: linear-probe accuracy of frozen features, SupCon vs cross-entropy vs an untrained encoder.

Datasets: scikit-learn's bundled `digits` (8 x 8 images) with 10 labels per class and with every training
label; and cart-pole frames drawn here in numpy (random cart position and pole angle, 1 x 32 x 32) labelled
by the pole angle cut into 6 bins over [-0.6, 0.6] rad. The encoder is trained on the labelled training
images (same CNN, augmentations, optimiser and steps for both losses; cross-entropy trains a linear head that
is then thrown away), frozen, and a logistic-regression probe fitted on its features of the same labelled
images is scored on held-out test images. Mean +- std over seeds.

    python scripts/bench_supcon.py                # 5 seeds, all three datasets, about 15 min on 2 shared cores
    python scripts/bench_supcon.py --seeds 2 --datasets digits-10
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn
from tqdm import tqdm

from underact.agents.perception import SupConEncoder

DATASETS = ("digits-10", "digits-all", "cartpole")
METHODS = ("untrained", "cross-entropy", "supcon")


def cartpole_frames(n: int, rng: np.random.Generator, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """n frames [n, 1, size, size] of a cart (random x) and pole (angle in [-0.6, 0.6] rad), labels 0..5."""
    x = rng.uniform(-0.3, 0.3, n) * size + size / 2  # cart centre column (px)
    theta = rng.uniform(-0.6, 0.6, n)
    labels = np.clip(((theta + 0.6) / 1.2 * 6).astype(int), 0, 5)
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    cart_row, pole = 0.75 * size, 0.45 * size
    img = np.zeros((n, size, size))
    img[:, int(cart_row) + 3, :] = 0.3  # track
    cart = (np.abs(cols[None] - x[:, None, None]) < 0.12 * size) & (np.abs(rows[None] - cart_row) < 0.05 * size)
    img[cart] = 0.6
    # pole: pixels within 1 px of the segment from the cart top to its tip
    tip_c, tip_r = x + pole * np.sin(theta), cart_row - pole * np.cos(theta)
    dc, dr = (tip_c - x)[:, None, None], (tip_r - cart_row)[:, None, None]
    pc, pr = cols[None] - x[:, None, None], rows[None] - cart_row
    t = np.clip((pc * dc + pr * dr) / (dc**2 + dr**2), 0, 1)
    img[np.hypot(pc - t * dc, pr - t * dr) < 1.0] = 1.0
    return img[:, None].astype(np.float32), labels


def load(name: str, seed: int) -> tuple[torch.Tensor, ...]:
    """x_train, y_train (the labelled images), x_test, y_test."""
    rng = np.random.default_rng(seed)
    if name == "cartpole":
        x, y = cartpole_frames(2000, rng)
        xtr, xte, ytr, yte = x[:1000], x[1000:], y[:1000], y[1000:]
    else:
        data = load_digits()
        x, y = (data.images / 16.0).astype(np.float32)[:, None], data.target
        xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.3, random_state=seed, stratify=y)
        if name == "digits-10":
            keep = np.concatenate([rng.choice(np.flatnonzero(ytr == c), 10, replace=False) for c in range(10)])
            xtr, ytr = xtr[keep], ytr[keep]
    return tuple(torch.as_tensor(a) for a in (xtr, ytr, xte, yte))


def fit_cross_entropy(enc: SupConEncoder, x, y, *, epochs: int, batch_size: int, seed: int) -> None:
    """The baseline: encoder + linear classifier trained with cross-entropy on the same augmented views."""
    head = nn.Linear(enc.config["feature_dim"], int(y.max()) + 1)
    optimiser = torch.optim.Adam([*enc.parameters(), *head.parameters()], lr=1e-3)
    generator, augment = torch.Generator().manual_seed(seed), enc.default_augment()
    enc.train()
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), batch_size):
            idx = perm[start : start + batch_size]
            views = torch.cat([augment(x[idx], generator) for _ in range(2)])
            loss = nn.functional.cross_entropy(head(enc(views)), y[idx].repeat(2))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    enc.eval()


def probe(enc: SupConEncoder, xtr, ytr, xte, yte, seed: int) -> float:
    with torch.no_grad():
        ftr, fte = enc(xtr).numpy(), enc(xte).numpy()
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, random_state=seed))
    return float(clf.fit(ftr, ytr.numpy()).score(fte, yte.numpy()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--steps", type=int, default=200, help="optimiser steps per training run")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "figures" / "supcon_probe.png")
    args = parser.parse_args()
    if args.seeds < 1 or args.steps < 1 or args.batch_size < 2:
        parser.error("--seeds and --steps must be positive and --batch-size at least 2")
    torch.set_num_threads(2)
    acc = {(d, m): [] for d in args.datasets for m in METHODS}
    jobs = [(d, s) for d in args.datasets for s in range(args.seeds)]
    for name, seed in tqdm(jobs, desc="dataset x seed", file=sys.stderr):
        xtr, ytr, xte, yte = load(name, seed)
        epochs = max(1, round(args.steps / -(-len(xtr) // args.batch_size)))
        torch.manual_seed(seed)
        init = SupConEncoder(tuple(xtr.shape[1:]), feature_dim=64, width=16)
        for method in METHODS:
            enc = SupConEncoder(tuple(xtr.shape[1:]), feature_dim=64, width=16)
            enc.load_state_dict(init.state_dict())
            if method == "supcon":
                enc.fit(xtr, ytr, epochs=epochs, batch_size=args.batch_size, seed=seed, progress=False)
            elif method == "cross-entropy":
                fit_cross_entropy(enc, xtr, ytr, epochs=epochs, batch_size=args.batch_size, seed=seed)
            acc[name, method].append(probe(enc.eval(), xtr, ytr, xte, yte, seed))

    print(f"linear-probe test accuracy, mean +- std over {args.seeds} seeds, {args.steps} steps per run")
    print(f"{'dataset':>12} " + " ".join(f"{m:>16}" for m in METHODS))
    for name in args.datasets:
        cells = [f"{np.mean(acc[name, m]):.3f} +- {np.std(acc[name, m]):.3f}" for m in METHODS]
        print(f"{name:>12} " + " ".join(f"{c:>16}" for c in cells))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax_img) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 2]})
    width = 0.8 / len(METHODS)
    for i, m in enumerate(METHODS):
        means = [np.mean(acc[d, m]) for d in args.datasets]
        stds = [np.std(acc[d, m]) for d in args.datasets]
        ax.bar(np.arange(len(args.datasets)) + i * width, means, width, yerr=stds, capsize=3, label=m)
    ax.set_xticks(np.arange(len(args.datasets)) + width, args.datasets)
    ax.set(ylabel="linear-probe test accuracy", ylim=(0, 1), title=f"frozen features, {args.seeds} seeds")
    ax.legend()
    frames, labels = cartpole_frames(6, np.random.default_rng(0))
    ax_img.imshow(np.concatenate(frames[:, 0], axis=1), cmap="gray")
    ax_img.set(title="cart-pole frames, angle bins " + " ".join(str(v) for v in labels), xticks=[], yticks=[])
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"figure: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
