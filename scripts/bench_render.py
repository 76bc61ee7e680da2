"""Benchmark: frames per second of the environments' software renderer against a dense numpy rasteriser.

Both draw the same capsules (rail, ticks, cart, pole, pin; or the acrobot's links) for N random states at the
same size. The baseline evaluates every capsule's coverage at every pixel with numpy arrays of shape
(N, S, H, W), as `underact.render` did before it became a compiled loop over each capsule's bounding
box. Both run in this process, alternately, `--rounds` times; the fastest time of each is kept (the machine is
shared) and their frames are compared (they must agree to one grey level).

    python scripts/bench_render.py                    # N = 128 at 64 x 64 and 256 x 128
    python scripts/bench_render.py --num 512 --rounds 5
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial

import gymnasium as gym
import numpy as np

import underact.envs  # noqa: F401 - registers the ids
from underact.render import BACKGROUND, View, draw_capsules


def dense_capsules(view: View, segments: np.ndarray, radii: np.ndarray, colors: np.ndarray) -> np.ndarray:
    """The baseline: coverage of every capsule at every pixel centre, (N, S, H, W) float32, composited in order."""
    px = view.to_pixels(segments).astype(np.float32)
    a, ab = px[:, :, 0], px[:, :, 1] - px[:, :, 0]  # (N, S, 2)
    length2 = np.maximum((ab**2).sum(-1), 1e-12)
    dx = (np.arange(view.width, dtype=np.float32) + 0.5)[None, None, None, :] - a[..., 0, None, None]
    dy = (np.arange(view.height, dtype=np.float32) + 0.5)[None, None, :, None] - a[..., 1, None, None]
    t = np.clip((dx * ab[..., 0, None, None] + dy * ab[..., 1, None, None]) / length2[..., None, None], 0, 1)
    dist = np.hypot(dx - t * ab[..., 0, None, None], dy - t * ab[..., 1, None, None])
    coverage = np.clip(radii[None, :, None, None] + 0.5 - dist, 0.0, 1.0)
    image = np.broadcast_to(BACKGROUND, (len(px), view.height, view.width, 3)).copy()
    for s in range(segments.shape[1]):
        image += coverage[:, s, :, :, None] * (colors[s] - image)
    return np.rint(image).astype(np.uint8)


def fastest(fn, rounds: int) -> tuple[float, np.ndarray]:
    best, out = np.inf, None
    for _ in range(rounds):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num", type=int, default=128, help="frames per call (N states)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.num < 1 or args.rounds < 1:
        parser.error("--num and --rounds must be positive")
    rng = np.random.default_rng(args.seed)
    cases = [
        ("underact/CartPoleBalance-v0", {"follow": 1.2}, (48, 48)),
        ("underact/CartPoleBalance-v0", {}, (64, 64)),
        ("underact/CartPoleBalance-v0", {}, (256, 128)),
        ("underact/AcrobotSwingUp-v0", {}, (64, 64)),
        ("underact/AcrobotSwingUp-v0", {}, (256, 256)),
    ]
    draw_capsules(View((0.0, 0.0), 1.0, 8, 8), np.zeros((1, 1, 2, 2)), np.ones(1), np.zeros((1, 3)))  # compile
    print(f"{'environment':<30} {'size':>9} {'dense numpy':>14} {'compiled':>14} {'ratio':>7}")
    for env_id, kwargs, (width, height) in cases:
        system = gym.make(env_id, **kwargs).unwrapped.task
        x = rng.normal(size=(args.num, 4)) * [0.5, 0.3, 1.0, 1.0] + np.r_[system.upright, 0.0, 0.0]
        view, segments = system.view(width, height), system.segments(x)
        radii = (system.radii * min(width, height) / 64.0).astype(np.float32)
        t_dense, dense = fastest(partial(dense_capsules, view, segments, radii, system.colors), args.rounds)
        t_ours, ours = fastest(partial(system.render, x, width, height), args.rounds)
        diff = int(np.abs(dense.astype(int) - ours.astype(int)).max())
        if diff > 1:
            print(f"{env_id}: frames differ by {diff} grey levels", file=sys.stderr)
            return 1
        fps = [args.num / t for t in (t_dense, t_ours)]
        label = env_id.split("/")[1] + (" follow" if kwargs else "")
        print(f"{label:<30} {width:>4}x{height:<4} {fps[0]:>10.0f} f/s {fps[1]:>10.0f} f/s {t_dense / t_ours:>6.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
