"""Integration: a frozen SupCon encoder in front of a Hebbian agent balancing the cart-pole from frames alone.

1. Frames of `underact/CartPoleBalance-v0` from a camera that follows the cart (`follow=1.2`: a 1.2 m wide
   window, 48 x 48 px, so the 0.5 m pole spans 20 px and the rail's ticks, 0.3 m apart, show the cart's
   motion), grey, the last 3 frames stacked as channels so motion is visible. Training stacks come from rollouts
   under random forces (see `labelled_frames`), labelled by the pole angle (|θ − π| < 0.25 rad, 6 bins) crossed
   with its angular velocity (|θ̇| < 1.5 rad/s, 4 bins) and the cart's velocity (|ẋ| < 0.3 m/s, 3 bins): 72
   classes, values outside a range fall in its end bins. A `SupConEncoder` is trained on them with
   `supcon_loss` (its features standardised over the training stacks), saved as an encoder file
   (`--encoder-out`, usable by `underact train --encoder supcon:PATH`) and frozen.
2. The agent sees only the encoder's features; a plastic network is evolved with OpenAI-ES and its center scored
   on fresh episodes, against the same network and budget given the true state and against a zero-force policy.
The linear-probe accuracy of the frozen features on held-out stacks, the learning curves, the scores and sample
frames go to --out.

    python scripts/pixels_supcon.py                  # about 30 min on 2 shared cores
    python scripts/pixels_supcon.py --encoder scripts/figures/pixels_supcon_encoder.safetensors   # reuse it
    python scripts/pixels_supcon.py --generations 3 --epochs 2 --frames 500
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from compare_encoders import add_budget_flags, budget, compare  # scripts/compare_encoders.py, beside this script
from sklearn.linear_model import LogisticRegression

import underact.envs  # noqa: F401  (registers underact/... ids)
from underact.agents.hebbian import RULES
from underact.agents.perception import SupConEncoder
from underact.agents.perception.encoded import EncodedEnvSpec
from underact.agents.perception.pipeline import grey_stack, load_encoder, save_encoder
from underact.agents.rollout import EnvSpec
from underact.envs.wrappers import VectorObservationHistory, VectorPixelObservation

ENV_ID = "underact/CartPoleBalance-v0"
SIZE = 48
FOLLOW = 1.2  # metres of rail in view
HISTORY = 3
FORCE = 80.0  # random training forces in N (the action limit is 200)
ANGLE_BINS, RATE_BINS, CART_BINS = 6, 4, 3
ANGLE, RATE, CART = 0.25, 1.5, 0.3  # label ranges: |θ − π| < ANGLE rad, |θ̇| < RATE rad/s, |ẋ| < CART m/s


def labelled_frames(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """n frame stacks [n, HISTORY, SIZE, SIZE] (grey), labels [n], colour stacks [n, HISTORY, SIZE, SIZE, 3].

    Collected from rollouts of the real dynamics under random forces (held for a few steps), through the same
    wrappers the agent sees, so the stacked frames move as they will in an episode; every 4th step is kept.
    """
    rng = np.random.default_rng(seed)
    n_envs, every = 200, 4
    env = VectorObservationHistory(
        VectorPixelObservation(
            gym.make_vec(
                ENV_ID,
                num_envs=n_envs,
                vectorization_mode="vector_entry_point",
                render_mode="rgb_array",
                width=SIZE,
                height=SIZE,
                follow=FOLLOW,
                fall_angle=0.35,
                reset_noise=0.15,
            )
        ),
        HISTORY,
    )
    env.reset(seed=seed)
    stacks, states = [], []
    force = np.zeros((n_envs, 1), dtype=np.float32)
    step = 0
    while len(stacks) * n_envs < n:
        change = rng.random((n_envs, 1)) < 0.3
        force = np.where(change, rng.uniform(-FORCE, FORCE, (n_envs, 1)), force).astype(np.float32)
        obs, *_ = env.step(force)
        step += 1
        if step % every == 0 and step > HISTORY:
            stacks.append(obs)
            states.append(env.unwrapped.state.copy())
    env.close()
    frames, state = np.concatenate(stacks)[:n], np.concatenate(states)[:n]
    angle = np.angle(np.exp(1j * (state[:, 1] - np.pi)))  # wrapped to (-π, π], 0 upright
    angle_bin = np.clip(((angle + ANGLE) / (2 * ANGLE) * ANGLE_BINS).astype(int), 0, ANGLE_BINS - 1)
    rate_bin = np.clip(((state[:, 3] + RATE) / (2 * RATE) * RATE_BINS).astype(int), 0, RATE_BINS - 1)
    cart_bin = np.clip(((state[:, 2] + CART) / (2 * CART) * CART_BINS).astype(int), 0, CART_BINS - 1)
    label = (angle_bin * RATE_BINS + rate_bin) * CART_BINS + cart_bin
    return grey_stack(frames), torch.from_numpy(label), frames


def zero_force_returns(episodes: int, seed: int) -> np.ndarray:
    """Returns of a policy that never pushes, on `episodes` fresh episodes (one vector environment)."""
    env = gym.make_vec(ENV_ID, num_envs=episodes, vectorization_mode="vector_entry_point")
    env.reset(seed=seed)
    total, alive = np.zeros(episodes), np.ones(episodes, dtype=bool)
    while alive.any():
        _, reward, terminated, truncated, _ = env.step(np.zeros((episodes, 1), dtype=np.float32))
        total += reward * alive
        alive &= ~(terminated | truncated)
    env.close()
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=8000, help="labelled training frame stacks")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--features", type=int, default=16, help="encoder feature width")
    parser.add_argument("--width", type=int, default=8, help="channels of the encoder's first conv layer")
    parser.add_argument("--rule", choices=RULES, default="ABCD_lr")
    add_budget_flags(parser, generations=40)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "figures" / "pixels_supcon.png")
    parser.add_argument("--encoder-out", type=Path, help="also keep the encoder file here (default: next to --out)")
    parser.add_argument("--encoder", type=Path, help="reuse an encoder file of this script")
    args = parser.parse_args()
    if min(args.frames, args.epochs, args.features, args.width, args.generations, args.population) < 1:
        parser.error("sizes and counts must be positive")
    if args.eval_episodes < 1:
        parser.error("--eval-episodes must be positive")
    if args.population % 2:
        parser.error("--population must be even (mirrored sampling)")
    torch.set_num_threads(1)  # small batches: one thread avoids oversubscribing a shared machine

    t0 = time.perf_counter()
    x_test, y_test, sample = labelled_frames(1000, args.seed + 1)
    if args.encoder is None:
        x, y, _ = labelled_frames(args.frames, args.seed)
        torch.manual_seed(args.seed)
        encoder = SupConEncoder((HISTORY, SIZE, SIZE), feature_dim=args.features, proj_dim=16, width=args.width)
        encoder.fit(x, y, epochs=args.epochs, batch_size=256, seed=args.seed)
        encoder_path = args.encoder_out or args.out.with_name(args.out.stem + "_encoder.safetensors")
        encoder_path.parent.mkdir(parents=True, exist_ok=True)
        recipe = {"history": HISTORY, "env_kwargs": {"width": SIZE, "height": SIZE, "follow": FOLLOW}}
        save_encoder(encoder, encoder_path, recipe)
    else:  # reuse a trained encoder: its probe is fitted on fresh labelled frames
        encoder_path = args.encoder
        x, y, _ = labelled_frames(min(args.frames, 4000), args.seed)
    loaded = load_encoder(f"supcon:{encoder_path}")
    encode = loaded.model
    with torch.no_grad():
        probe = LogisticRegression(max_iter=3000).fit(encode(x).numpy(), y.numpy())
        accuracy = probe.score(encode(x_test).numpy(), y_test.numpy())
    classes = ANGLE_BINS * RATE_BINS * CART_BINS
    print(
        f"SupCon encoder: linear probe {accuracy:.3f} on 1000 held-out frame stacks, {classes} classes "
        f"(chance {1 / classes:.3f}; {time.perf_counter() - t0:.0f} s)"
    )
    print(f"encoder file: {encoder_path}")

    agents = {
        "pixels (SupCon)": (EncodedEnvSpec(ENV_ID, loaded.env_kwargs, wrap=loaded.wrap), loaded.feature_dim),
        "true state": (EnvSpec(ENV_ID, {}), 5),
    }
    curves, scores = compare(agents, rule=args.rule, **budget(args))
    scores["zero force"] = zero_force_returns(args.eval_episodes, args.seed + 1)
    print(f"{'zero force':>16}: return {scores['zero force'].mean():6.1f} +- {scores['zero force'].std():5.1f}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx, cx) = plt.subplots(1, 3, figsize=(14, 3.8), gridspec_kw={"width_ratios": [3, 2, 1.2]})
    for name, curve in curves.items():
        ax.plot(curve, label=name)
    ax.set(xlabel="generation", ylabel="center return", title=f"{ENV_ID}, same ES budget", ylim=(0, 520))
    ax.legend(fontsize=8)
    names = list(scores)
    bx.bar(names, [scores[n].mean() for n in names], yerr=[scores[n].std() for n in names], capsize=4)
    bx.set(ylabel=f"return, {args.eval_episodes} fresh episodes", ylim=(0, 520), title=f"probe {accuracy:.2f}")
    bx.tick_params(axis="x", labelsize=8)
    cx.imshow(np.concatenate([np.concatenate(list(pair), axis=1) for pair in sample[:3]], axis=0))
    cx.set(title="frame stacks (t-2 .. t)", xticks=[], yticks=[])
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"figure: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
