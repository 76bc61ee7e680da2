"""Benchmark: environment steps per second of the native vector environments against baselines, same run.

Baselines, all measured here: Gymnasium's single `Acrobot-v1` (the target: our acrobot vector env at N = 1024
must reach at least 20× its steps/s), Gymnasium's native `CartPole-v1` vector env at the same N, and the same
acrobot / cart-pole on MuJoCo through `mujoco.rollout` at the same N (RK4 at dt / substeps, as the mujoco
backend; one thread and all cores). Also our single env (analytic backend) for scale.

    python scripts/bench_envs.py                     # N = 1024, prints a table and the 20x check
    python scripts/bench_envs.py --num-envs 4096 --out runs/bench   # also writes bench_envs.json / .png
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
from tqdm import tqdm

import underact.envs  # noqa: F401 - registers the ids
from underact import load
from underact.envs.acrobot import AcrobotSystem
from underact.envs.cartpole import CartPoleSystem

TARGET_RATIO = 20.0


def timed(step, n_calls: int, per_call: int):
    """A runner: times `n_calls` calls of `step` (each advances `per_call` environments), returns steps/s."""

    def run() -> float:
        start = time.perf_counter()
        for _ in range(n_calls):
            step()
        return n_calls * per_call / (time.perf_counter() - start)

    for _ in range(min(10, n_calls)):  # warm-up
        step()
    return run


def gym_single_runner(env_id: str, steps: int, seed: int):
    env = gym.make(env_id)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(64)]
    counter = iter(range(10**12))

    def step():
        _, _, terminated, truncated, _ = env.step(actions[next(counter) % 64])
        if terminated or truncated:
            env.reset()

    return timed(step, steps, 1)


def vector(env_id: str, n: int, steps: int, seed: int):
    vec = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point")
    vec.reset(seed=seed)
    vec.action_space.seed(seed)
    actions = vec.action_space.sample()
    return timed(lambda: vec.step(actions), steps, n)


def mujoco_rollout(name: str, system, n: int, steps: int, threads: int, seed: int):
    """A runner for `mujoco.rollout` on the backend's MJCF: `substeps` RK4 mj_steps per environment step."""
    import mujoco
    from mujoco import rollout

    plant = load(name, backend="mujoco")
    model = plant.model
    model.opt.timestep = system.dt / system.substeps
    model.opt.integrator = int(mujoco.mjtIntegrator.mjINT_RK4)
    data = [mujoco.MjData(model) for _ in range(threads)]
    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
    x0 = np.zeros((n, mujoco.mj_stateSize(model, spec)))
    mujoco.mj_getState(model, data[0], x0[0], spec)
    x0[:] = x0[0]
    rng = np.random.default_rng(seed)
    control = rng.uniform(-1, 1, size=(n, steps * system.substeps, model.nu)) * plant.u_limit
    state = np.empty((n, steps * system.substeps, x0.shape[1]))
    rollout.rollout(model, data, x0, control[:, :1])  # warm-up (thread pool, allocation)

    def run() -> float:
        start = time.perf_counter()
        rollout.rollout(model, data, x0, control, state=state)
        return n * steps / (time.perf_counter() - start)

    return run


def plot(results: dict[str, float], baseline: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    values = [results[k] for k in names]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(names) + 1.2))
    ax.barh(names, values, color=["C3" if k == baseline else "C0" for k in names])
    ax.set_xscale("log")
    ax.set_xlim(right=max(values) * 10)  # room for the labels
    ax.set_xlabel("environment steps per second (log scale)")
    ax.invert_yaxis()
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:,.0f} ({v / results[baseline]:.1f}x)", va="center", fontsize=8)
    ax.set_title("underact vector environments vs baselines")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=1024, help="copies per vector env (default 1024)")
    parser.add_argument("--vector-steps", type=int, default=200, help="vector steps timed (default 200)")
    parser.add_argument("--single-steps", type=int, default=5000, help="single-env steps timed (default 5000)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved repeats, best kept (default 5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="folder for bench_envs.json and bench_envs.png")
    args = parser.parse_args(argv)
    if min(args.num_envs, args.vector_steps, args.single_steps, args.repeats) < 1:
        parser.error("--num-envs, --vector-steps, --single-steps and --repeats must be positive")
    n, seed, steps = args.num_envs, args.seed, args.vector_steps
    threads = os.cpu_count() or 1
    gym_single, gym_vec = "Acrobot-v1 (gymnasium, single)", f"CartPole-v1 vector (gymnasium, N={n})"
    acro_vec, cart_vec = f"underact acrobot vector (N={n})", f"underact cartpole vector (N={n})"
    acro_mj1 = f"acrobot mujoco.rollout (N={n}, 1 thread)"
    acro_mjt = f"acrobot mujoco.rollout (N={n}, {threads} threads)"
    cart_mj1 = f"cartpole mujoco.rollout (N={n}, 1 thread)"
    runners = {
        gym_single: gym_single_runner("Acrobot-v1", args.single_steps, seed),
        "underact acrobot single (analytic)": gym_single_runner("underact/AcrobotSwingUp-v0", args.single_steps, seed),
        gym_vec: vector("CartPole-v1", n, steps, seed),
        acro_vec: vector("underact/AcrobotSwingUp-v0", n, steps, seed),
        cart_vec: vector("underact/CartPoleSwingUp-v0", n, steps, seed),
        acro_mj1: mujoco_rollout("acrobot", AcrobotSystem, n, steps, 1, seed),
        acro_mjt: mujoco_rollout("acrobot", AcrobotSystem, n, steps, threads, seed),
        cart_mj1: mujoco_rollout("cartpole", CartPoleSystem, n, steps, 1, seed),
    }
    # Interleaved repeats, best of each: the machine's load then affects every benchmark alike.
    results = dict.fromkeys(runners, 0.0)
    jobs = [(r, name) for r in range(args.repeats) for name in runners]
    for _, name in tqdm(jobs, desc="benchmarks", file=sys.stderr):
        results[name] = max(results[name], runners[name]())
    ratios = {
        "acrobot vector / Acrobot-v1 single": results[acro_vec] / results[gym_single],
        "acrobot vector / CartPole-v1 vector": results[acro_vec] / results[gym_vec],
        "cartpole vector / CartPole-v1 vector": results[cart_vec] / results[gym_vec],
        "acrobot vector / acrobot mujoco.rollout, 1 thread": results[acro_vec] / results[acro_mj1],
        f"acrobot vector / acrobot mujoco.rollout, {threads} threads": results[acro_vec] / results[acro_mjt],
        "cartpole vector / cartpole mujoco.rollout, 1 thread": results[cart_vec] / results[cart_mj1],
    }
    print(f"machine: {platform.processor() or platform.machine()}, {threads} cores, numpy {np.__version__}")
    print(f"{'benchmark':<52} {'env steps/s':>14}")
    for name, value in results.items():
        print(f"{name:<52} {value:>14,.0f}")
    print()
    for name, value in ratios.items():
        print(f"{name:<52} {value:>13.1f}x")
    passed = ratios["acrobot vector / Acrobot-v1 single"] >= TARGET_RATIO
    print(f"\ntarget: acrobot vector at N={n} >= {TARGET_RATIO:.0f}x Acrobot-v1 single: {'PASS' if passed else 'FAIL'}")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "bench_envs.json").write_text(json.dumps({"steps_per_s": results, "ratios": ratios}, indent=2))
        plot(results, gym_single, args.out / "bench_envs.png")
        print(f"wrote {args.out / 'bench_envs.json'} and {args.out / 'bench_envs.png'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
