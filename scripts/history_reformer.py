"""Integration: a Reformer over the last k position observations lets an agent balance the cart-pole.

`underact/CartPoleBalance-v0` with hidden velocities (observations x, cos θ, sin θ only). For each rule in
--rules (default: static weights, then the Hebbian ABCD_lr), three agents with the same network and OpenAI-ES
budget:
  positions   the agent sees the positions only;
  reformer    the agent sees the positions and the velocities a causal Reformer estimates from the last k
              position observations (trained first, by regression on rollouts with random forces, then frozen);
  full state  the agent sees the true state (reference).
Each center genome is then scored on fresh episodes (mean, and how many were balanced for all 500 steps); the
curves and bar charts go to --out. A static network sees only the current observation, so from positions alone
it cannot damp the pole; a plastic network's weights change every step and so carry a memory of earlier inputs.

    python scripts/history_reformer.py                    # about 25 min on 2 shared cores
    python scripts/history_reformer.py --rules ABCD_lr --encoder scripts/figures/history_reformer_encoder.safetensors
    python scripts/history_reformer.py --generations 10 --train-steps 300
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
from tqdm import tqdm

import underact.envs  # noqa: F401  (registers underact/... ids)
from underact.agents.hebbian import RULES
from underact.agents.perception.encoded import EncodedEnvSpec
from underact.agents.perception.pipeline import VelocityEstimator, load_encoder, save_encoder
from underact.agents.rollout import EnvSpec
from underact.envs.wrappers import VectorHiddenVelocity, VectorObservationHistory

ENV_ID = "underact/CartPoleBalance-v0"
N_POS = 3  # x, cos θ, sin θ
AGENTS = ("positions", "reformer", "full state")


def collect(k: int, n_envs: int, steps: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Histories [n, k, 3] of positions and the true velocities [n, 2] at their newest step, random forces.

    Forces cover the whole action range (the evolved agents push hard), each held for a few steps.
    """
    env = VectorObservationHistory(
        gym.make_vec(ENV_ID, num_envs=n_envs, vectorization_mode="vector_entry_point", fall_angle=0.8), k
    )
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    xs, ys = [], []
    limit = float(env.single_action_space.high[0])
    force = np.zeros((n_envs, 1), dtype=np.float32)
    for _ in range(steps):
        change = rng.random((n_envs, 1)) < 0.3  # forces anywhere in the action range, held for a few steps
        force = np.where(change, rng.uniform(-limit, limit, (n_envs, 1)), force).astype(np.float32)
        obs, *_ = env.step(force)
        xs.append(obs[:, :, :N_POS].copy())
        ys.append(obs[:, -1, N_POS:].copy())
    env.close()
    return torch.from_numpy(np.concatenate(xs)), torch.from_numpy(np.concatenate(ys))


def train_estimator(args: argparse.Namespace) -> tuple[VelocityEstimator, dict]:
    torch.manual_seed(args.seed)
    x, y = collect(args.k, 256, 200, args.seed)
    n_val = len(x) // 10
    model = VelocityEstimator(args.k, args.dim, args.bucket)
    model.scale.copy_(y.std(0))
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    generator = torch.Generator().manual_seed(args.seed)
    model.train()
    for _ in tqdm(range(args.train_steps), desc="reformer", file=sys.stderr):
        idx = n_val + torch.randint(len(x) - n_val, (128,), generator=generator)
        loss = ((model(x[idx]) - y[idx]) / model.scale).square().mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    with torch.no_grad():
        pred = model(x[:n_val])
    r2 = 1 - ((pred - y[:n_val]).square().mean(0) / y[:n_val].var(0))
    return model, {"r2_xdot": float(r2[0]), "r2_thetadot": float(r2[1]), "samples": len(x)}


def first_full(curve: list[float], full: float = 500.0) -> str:
    """The first generation whose center return was `full`, or '-' if none was."""
    return next((str(g) for g, r in enumerate(curve) if r >= full), "-")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=16, help="history length (Reformer sequence length)")
    parser.add_argument("--bucket", type=int, default=4, help="LSH bucket size (LSH is used above 2 x bucket)")
    parser.add_argument("--dim", type=int, default=16)
    parser.add_argument("--train-steps", type=int, default=600)
    parser.add_argument("--rules", nargs="+", choices=RULES, default=["static", "ABCD_lr"])
    add_budget_flags(parser, generations=60)
    parser.add_argument("--agents", nargs="+", choices=AGENTS, default=list(AGENTS))
    parser.add_argument("--reset-noise", type=float, default=0.15, help="start-state noise (env default 0.05)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "figures" / "history_reformer.png")
    parser.add_argument("--encoder-out", type=Path, help="keep the estimator file here (default: next to --out)")
    parser.add_argument("--encoder", type=Path, help="reuse an estimator file of this script instead of training")
    args = parser.parse_args()
    if min(args.k, args.bucket, args.dim, args.train_steps, args.generations, args.population) < 1:
        parser.error("sizes and counts must be positive")
    if args.population % 2:
        parser.error("--population must be even (mirrored sampling)")
    torch.set_num_threads(1)  # small batches: one thread avoids oversubscribing a shared machine

    if args.encoder is None:
        t0 = time.perf_counter()
        model, fit = train_estimator(args)
        print(
            f"Reformer velocity estimator (k = {args.k}, bucket {args.bucket}): validation R^2 "
            f"x_dot {fit['r2_xdot']:.3f}, theta_dot {fit['r2_thetadot']:.3f} ({fit['samples']} windows, "
            f"{time.perf_counter() - t0:.0f} s)"
        )
        encoder_path = args.encoder_out or args.out.with_name(args.out.stem + "_encoder.safetensors")
        encoder_path.parent.mkdir(parents=True, exist_ok=True)
        save_encoder(model, encoder_path, {})
    else:
        encoder_path = args.encoder
    print(f"encoder file: {encoder_path} (underact train --encoder reformer:{encoder_path})")
    estimator = load_encoder(f"reformer:{encoder_path}")
    kwargs = {"reset_noise": args.reset_noise}
    agents = {
        "positions": (EncodedEnvSpec(ENV_ID, kwargs, wrap=VectorHiddenVelocity), N_POS),
        "reformer": (EncodedEnvSpec(ENV_ID, kwargs, wrap=estimator.wrap), N_POS + 2),
        "full state": (EnvSpec(ENV_ID, kwargs), N_POS + 2),
    }
    results = {}
    for rule in args.rules:
        print(f"rule {rule}:")
        results[rule] = compare({name: agents[name] for name in args.agents}, rule=rule, **budget(args))
    print(f"{'rule':>8} {'agent':>11} {'return':>15} {'balanced 500':>13} {'first 500 gen':>14}")
    for rule, (curves, scores) in results.items():
        for name, score in scores.items():
            print(
                f"{rule:>8} {name:>11} {score.mean():7.1f} +- {score.std():5.1f} "
                f"{int((score >= 500).sum()):>8}/{len(score):<4} {first_full(curves[name]):>14}"
            )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), 2, figsize=(11, 3.6 * len(results)), squeeze=False)
    for (ax, bx), (rule, (curves, scores)) in zip(axes, results.items(), strict=True):
        for name, curve in curves.items():
            ax.plot(curve, label=name)
        ax.set(xlabel="generation", ylabel="center return (2 episodes)", title=f"{rule}: {ENV_ID}, hidden velocities")
        ax.legend(fontsize=8)
        names = list(scores)
        bars = bx.bar(names, [scores[n].mean() for n in names], yerr=[scores[n].std() for n in names], capsize=4)
        balanced = [f"{int((scores[n] >= 500).sum())}/{len(scores[n])} balanced" for n in names]
        bx.bar_label(bars, labels=balanced, label_type="center", color="white", fontsize=9)
        bx.set(ylabel=f"return, {args.eval_episodes} fresh episodes", ylim=(0, 540), title=f"{rule}, k = {args.k}")
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"figure: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
