"""Integration: a frozen SupCon encoder in front of a Hebbian agent balancing the cart-pole from frames alone.

1. Frames of `underact/CartPoleBalance-v0` (the environment's own renderer, 128 x 128, the 24-row band
   holding the cart and pole, grey) at random states
   near upright, labelled by the pole angle cut into 8 bins crossed with the cart position cut into 3 bins;
   a `SupConEncoder` is trained on them with `supcon_loss` and frozen.
2. The agent sees only [f_t, f_t - f_{t-1}], the encoder features of the last two frames (a frame holds no
   velocity); a plastic network is evolved with OpenAI-ES and its center scored on fresh episodes.
The linear-probe accuracy of the frozen features on held-out frames, the learning curve and sample frames go
to --out.

    python scripts/pixels_supcon.py                  # about 10 min on 2 shared cores
    python scripts/pixels_supcon.py --generations 5 --epochs 5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

import underact.envs  # noqa: F401  (registers underact/... ids)
from underact.agents.hebbian import RULES, PlasticNet
from underact.agents.perception import SupConEncoder
from underact.agents.perception.encoded import EncodedEnvSpec, VectorEncodedObservation, evaluate, evolve
from underact.envs.wrappers import VectorObservationHistory, VectorPixelObservation

ENV_ID = "underact/CartPoleBalance-v0"
SIZE = 128  # frame width and height; the rail is at mid-height
BAND = slice(48, 72)  # the rows where the cart and pole are drawn (a pole upright within 0.3 rad stays inside)


def grey(frames: np.ndarray) -> torch.Tensor:
    """uint8 frames [..., SIZE, SIZE, 3] -> the band of rows with the cart-pole, grey, [n, 1, 24, SIZE] in [0, 1]."""
    band = np.asarray(frames)[..., BAND, :, :].astype(np.float32)
    return torch.from_numpy(band).mean(-1).reshape(-1, 1, BAND.stop - BAND.start, SIZE) / 255.0


def labelled_frames(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """n frames at random states (|x| < 1.2 m, |θ - π| < 0.3 rad, at rest) and their labels."""
    rng = np.random.default_rng(seed)
    states = np.zeros((n, 4))
    states[:, 0] = rng.uniform(-1.2, 1.2, n)
    states[:, 1] = np.pi + rng.uniform(-0.3, 0.3, n)
    env = gym.make_vec(
        ENV_ID, num_envs=n, vectorization_mode="vector_entry_point", render_mode="rgb_array", width=SIZE, height=SIZE
    )
    env.reset(seed=seed, options={"state": states})
    frames = env.unwrapped.frames()
    env.close()
    angle_bin = np.clip(((states[:, 1] - np.pi + 0.3) / 0.6 * 8).astype(int), 0, 7)
    x_bin = np.clip(((states[:, 0] + 1.2) / 2.4 * 3).astype(int), 0, 2)
    return grey(frames), torch.from_numpy(angle_bin * 3 + x_bin), frames


def pixel_wrap(encoder: SupConEncoder):
    feature_dim = encoder.config["feature_dim"]

    def encode(history: np.ndarray) -> np.ndarray:  # [N, 2, H, W, 3] -> [N, 2F]
        with torch.no_grad():
            f = encoder(grey(history)).view(len(history), 2, feature_dim).numpy()
        return np.concatenate([f[:, 1], f[:, 1] - f[:, 0]], axis=1)

    return lambda env: VectorEncodedObservation(
        VectorObservationHistory(VectorPixelObservation(env), 2), encode, 2 * feature_dim
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=2000, help="labelled training frames")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--features", type=int, default=8, help="encoder feature width")
    parser.add_argument("--rule", choices=RULES, default="ABCD_lr")
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--generations", type=int, default=40)
    parser.add_argument("--population", type=int, default=24)
    parser.add_argument("--episodes", type=int, default=1)
    parser.add_argument("--eval-episodes", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "figures" / "pixels_supcon.png")
    args = parser.parse_args()
    if min(args.frames, args.epochs, args.features, args.generations, args.population, args.eval_episodes) < 1:
        parser.error("sizes and counts must be positive")
    if args.population % 2:
        parser.error("--population must be even (mirrored sampling)")
    torch.set_num_threads(1)  # small batches: one thread avoids oversubscribing a shared machine

    t0 = time.perf_counter()
    x, y, _ = labelled_frames(args.frames, args.seed)
    x_test, y_test, sample = labelled_frames(1000, args.seed + 1)
    torch.manual_seed(args.seed)
    encoder = SupConEncoder((1, BAND.stop - BAND.start, SIZE), feature_dim=args.features, proj_dim=16, width=16)
    encoder.fit(x, y, epochs=args.epochs, batch_size=256, seed=args.seed)
    with torch.no_grad():
        probe = LogisticRegression(max_iter=3000).fit(encoder(x).numpy(), y.numpy())
        accuracy = probe.score(encoder(x_test).numpy(), y_test.numpy())
    print(
        f"SupCon encoder: linear probe {accuracy:.3f} on 1000 held-out frames, 24 classes "
        f"({time.perf_counter() - t0:.0f} s)"
    )

    spec = EncodedEnvSpec(ENV_ID, {"render_mode": "rgb_array", "width": SIZE, "height": SIZE}, wrap=pixel_wrap(encoder))
    net = PlasticNet((2 * args.features, args.hidden, 1), args.rule)
    t0 = time.perf_counter()
    center, curve = evolve(
        spec, net, generations=args.generations, population=args.population, episodes=args.episodes, seed=args.seed
    )
    scores = evaluate(spec, net, center, args.eval_episodes, args.seed + 1)
    print(
        f"pixels agent: center return {scores.mean():.1f} +- {scores.std():.1f} over {args.eval_episodes} fresh "
        f"episodes (max 500; {time.perf_counter() - t0:.0f} s)"
    )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [3, 2]})
    ax.plot(curve)
    ax.set(
        xlabel="generation",
        ylabel="center return",
        title=f"{ENV_ID} from {SIZE}x{SIZE} frames (SupCon, frozen)",
        ylim=(0, 520),
    )
    bx.imshow(np.concatenate(list(sample[:4, BAND]), axis=0))
    bx.set(title=f"frames; eval return {scores.mean():.0f} / 500", xticks=[], yticks=[])
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"figure: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
