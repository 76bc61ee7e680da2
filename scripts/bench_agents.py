"""Benchmark: batched Hebbian population rollouts against a reference-style loop, and memory bandwidth.

Ours: the whole population steps together (one vector environment; per step, one fused numba kernel per
layer does the batched forward pass and Hebbian update, float32). Reference (the structure of Najarro &
Risi's code): a multiprocessing pool with one worker per core, one individual per task, one environment
each, stepped one step at a time with numpy per-agent matrices. Both play the same genomes from the same
initial states; both count the env steps of live agents. The script prints steps/s of each, their ratio,
and the fraction of this machine's memory bandwidth the batched update reaches: each agent-step streams its
coefficients (read) and weights (read and write), bandwidth measured by a large numpy copy (DRAM) and a
cache-sized one (L3).

    python scripts/bench_agents.py                      # (128, 64), population 64 x 4 episodes, acrobot
    python scripts/bench_agents.py --hidden 32 --population 128 --repeats 5
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time

import gymnasium as gym
import numpy as np
import torch

from underact.agents import kernels
from underact.agents.hebbian import PlasticNet
from underact.agents.rollout import EnvSpec, PopulationEvaluator, derived_seed, space_sizes, to_actions

SEED, GENERATION = 0, 0


def _reference_agent(task: tuple) -> tuple[float, int]:
    """One individual, one env, one step at a time: numpy forward pass and ABCD_lr update per layer."""
    env_id, sizes, genome, k, e, episodes = task
    net = PlasticNet(sizes, "ABCD_lr")
    gen = torch.Generator().manual_seed(derived_seed(SEED, GENERATION, k))
    fresh = net.initial_weights(net.terms(torch.zeros(1, net.num_params)), [gen], episodes)
    weights = [w[0, e].numpy().copy() for w in fresh]
    coeffs = []
    for layer, shape in enumerate(net.shapes):
        blocks = [b for b in net.layout() if b.layer == layer]
        coeffs.append([genome[b.offset : b.offset + shape[0] * shape[1]].reshape(shape) for b in blocks])
    env = gym.make(env_id)
    obs, _ = env.reset(seed=derived_seed(SEED, GENERATION, 2**31 - 1) + k * episodes + e)
    ret, steps, done = 0.0, 0, False
    while not done:
        pre = obs.astype(np.float32)
        for w, (a, b, c, d, eta) in zip(weights, coeffs, strict=True):
            post = np.tanh(w @ pre)
            w += eta * (a * np.outer(post, pre) + b * pre[None, :] + c * post[:, None] + d)
            pre = post
        obs, r, term, trunc, _ = env.step(to_actions(pre[None, :], env.action_space)[0])
        ret, steps, done = ret + float(r), steps + 1, term or trunc
    env.close()
    return ret, steps


def _timed(evaluate, genomes: np.ndarray, repeats: int) -> tuple[float, float]:
    """(best env steps/s over `repeats` calls of evaluate(genomes), mean return)."""
    evaluate(genomes)  # build environments, warm up
    best, mean = 0.0, 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        returns, steps = evaluate(genomes)
        best = max(best, steps / (time.perf_counter() - t))
        mean = float(returns.mean())
    return best, mean


def bench_ours(env_id: str, net: PlasticNet, genomes: np.ndarray, episodes: int, repeats: int):
    """(env steps/s, mean return) of the batched evaluator in this process (one torch thread)."""
    ev = PopulationEvaluator(EnvSpec(env_id), net, len(genomes), episodes, SEED)
    try:
        return _timed(lambda g: ev.evaluate(g, 0, GENERATION), genomes, repeats)
    finally:
        ev.close()


def bench_ours_ray(env_id: str, hidden: tuple, genomes: np.ndarray, episodes: int, repeats: int, workers: int):
    """(env steps/s, mean return) of the trainer's Ray backend: `workers` processes, one slice each."""
    import ray

    from underact.agents.trainer import RayBackend, TrainConfig

    config = TrainConfig(
        env=env_id, hidden=hidden, population=len(genomes), episodes=episodes, seed=SEED, backend="ray", workers=workers
    )
    backend = RayBackend(config, len(genomes))
    try:
        return _timed(lambda g: backend.evaluate(g, GENERATION), genomes, repeats)
    finally:
        backend.close()
        ray.shutdown()


def bench_reference(env_id: str, net: PlasticNet, genomes: np.ndarray, episodes: int, repeats: int, workers: int):
    """(env steps/s, mean return) of the reference-style pool, best of `repeats`."""
    tasks = [(env_id, net.sizes, g, k, e, episodes) for k, g in enumerate(genomes) for e in range(episodes)]
    ctx = mp.get_context("fork")
    with ctx.Pool(workers, initializer=torch.set_num_threads, initargs=(1,)) as pool:
        pool.map(_reference_agent, tasks[:workers])  # start the workers
        best, mean = 0.0, 0.0
        for _ in range(repeats):
            t = time.perf_counter()
            out = pool.map(_reference_agent, tasks, chunksize=1)
            best = max(best, sum(s for _, s in out) / (time.perf_counter() - t))
            mean = float(np.mean([r for r, _ in out]))
    return best, mean


def kernel_rate(net: PlasticNet, genomes: np.ndarray, episodes: int, repeats: int = 50) -> float:
    """Agent-steps/s of the batched forward pass + Hebbian update alone (no environment)."""
    terms = net.terms(torch.from_numpy(genomes))
    gens = [torch.Generator().manual_seed(k) for k in range(len(genomes))]
    weights = net.initial_weights(terms, gens, episodes)
    x = torch.zeros(len(genomes), episodes, net.sizes[0])
    with torch.no_grad():
        for _ in range(5):
            net.step(weights, terms, x)
        t = time.perf_counter()
        for _ in range(repeats):
            net.step(weights, terms, x)
    return repeats * len(genomes) * episodes / (time.perf_counter() - t)


def copy_bandwidth(nbytes: int, repeats: int = 5) -> float:
    """Bytes/s moved by np.copyto of an nbytes array (counts the read and the write)."""
    src = np.ones(nbytes // 4, dtype=np.float32)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t)
    return 2 * src.nbytes / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--env",
        default="underact/AcrobotSwingUp-v0",
        help="Gymnasium id (default: our acrobot swing-up, whose 500-step episodes rarely end early)",
    )
    ap.add_argument("--hidden", default="128,64", help="hidden layer sizes (default: the paper's 128,64)")
    ap.add_argument("--population", type=int, default=64)
    ap.add_argument("--episodes", type=int, default=4, help="episodes per individual (default 4, as training)")
    ap.add_argument("--no-ray", action="store_true", help="skip the Ray-backend measurement")
    ap.add_argument("--repeats", type=int, default=3, help="timed repetitions; the best is reported")
    ap.add_argument("--workers", type=int, default=os.cpu_count(), help="reference pool size (default: cores)")
    ap.add_argument("--threads", type=int, default=1, help="threads for ours (default 1, as training uses)")
    ap.add_argument("--scale", type=float, default=0.05, help="std of the random genomes")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    kernels.use_threads(args.threads)
    n_in, n_out = space_sizes(args.env)
    hidden = tuple(int(h) for h in args.hidden.split(",") if h)
    net = PlasticNet((n_in, *hidden, n_out), "ABCD_lr")
    genomes = np.random.default_rng(1).normal(0, args.scale, (args.population, net.num_params)).astype(np.float32)

    ref, ref_mean = bench_reference(args.env, net, genomes, args.episodes, args.repeats, args.workers)
    ours, ours_mean = bench_ours(args.env, net, genomes, args.episodes, args.repeats)
    if not args.no_ray:
        ray_rate, ray_mean = bench_ours_ray(args.env, hidden, genomes, args.episodes, args.repeats, args.workers)
    kernel = kernel_rate(net, genomes, args.episodes)
    n_weights = net.num_params // 5
    # coefficients are read once per individual and step, weights read and written once per agent and step
    per_agent_step = 4 * (5 * n_weights / args.episodes + 2 * n_weights)
    working_set = args.population * 4 * (5 + args.episodes) * n_weights
    dram, cache = copy_bandwidth(1 << 30), copy_bandwidth(max(working_set // 2, 1 << 20))

    print(
        f"{args.env}  sizes {net.sizes}  population {args.population} x {args.episodes} episodes  ABCD_lr  "
        f"torch threads {torch.get_num_threads()}  reference pool {args.workers} processes"
    )
    print(f"reference loop ({args.workers} proc)   {ref:10.0f} env steps/s   (mean return {ref_mean:.2f})")
    print(
        f"batched, 1 process       {ours:10.0f} env steps/s   (mean return {ours_mean:.2f})   "
        f"{ours / ref:6.2f} x reference"
    )
    if not args.no_ray:
        print(
            f"batched, Ray {args.workers} workers    {ray_rate:10.0f} env steps/s   (mean return {ray_mean:.2f})   "
            f"{ray_rate / ref:6.2f} x reference"
        )
    print(f"update kernel    {kernel:12.0f} agent-steps/s without the environment")
    print(
        f"bytes per agent-step {per_agent_step:.0f} (coefficients {5 * n_weights * 4} per individual, "
        f"weights 2 x {n_weights * 4}); "
        f"working set {working_set / 2**20:.1f} MiB"
    )
    for name, bw in (("DRAM (1 GiB copy)", dram), (f"cache-sized copy ({working_set / 2**21:.0f} MiB)", cache)):
        print(
            f"bandwidth {name:28s} {bw / 1e9:6.2f} GB/s   reached: end-to-end "
            f"{ours * per_agent_step / bw:6.1%}, kernel {kernel * per_agent_step / bw:6.1%}"
        )


if __name__ == "__main__":
    main()
