"""Benchmark: batched Hebbian rollouts against the cache-bandwidth ceiling and a reference-style loop.

Ours: the whole population steps together (one vector environment; per step, one fused numba kernel per
layer does the batched forward pass and Hebbian update, float32). Reference (the structure of Najarro &
Risi's code): a multiprocessing pool with one worker per core, one individual per task, one environment
each, stepped one step at a time with numpy per-agent matrices. Both play the same genomes from the same
initial states and count the env steps of live agents (= agent-steps), measured in the same run.

Two populations are measured: random genomes (short episodes on CartPole) and copies of a trained genome
(long episodes: the case that exercises the kernel), the trained genome read from `--genome RUN` or trained
here first with the default ES settings. The kernel-alone figure feeds the network the observations of real
episodes (not zeros: tanh(0) is the C library's fast path and flattered the old kernel).

Ceiling: per agent-step the kernel reads the individual's four coefficient arrays (η folded in, shared by its
E episodes) and reads and writes the agent's weights, 4·(4N/E + 2N) bytes for N synapses (≈ 106 kB at
(128, 64)); the population's working set (≈ 18 MB) stays in L3. The ceiling is the rate of `Stream`: that
traffic, in the kernels' layout and on arrays of the population's size, without the arithmetic (per individual
and output the coefficient rows are read once and their sum added to each episode's weight row). A plain copy is
no substitute: numpy's copy of a cache-sized array may bypass the cache (non-temporal stores), and measured 40
GB/s here at a moment when this traffic streamed at 70. The ceiling is sampled before every section (it moves
with the load of the machine's neighbours) and the best sample is kept.

Our own environments (`--own-env`, default `underact/CartPoleBalance-v0`, a genome trained there or read from
`--own-genome RUN`): the compiled rollout (`underact.agents.compiled`, physics and networks in one compiled loop
per individual, whose data then stays in its core's L2) against the step-by-step vector-environment path, on the
same population, interleaved. The step-synchronous ceiling above does not bind it.

    python scripts/bench_agents.py                       # (128, 64), population 64 x 4 episodes, CartPole-v1
    python scripts/bench_agents.py --genome runs/big --no-ray --json out.json

`--mujoco N` measures only the MuJoCo section instead, N copies of `underact/AntDamaged-v0` in one run, each mode
timed in turn: physics only (random actions), its threaded vector environment (`underact.envs.ant.AntVectorEnv`,
1 thread and --threads threads) against Gymnasium's one-env-at-a-time loop (`vectorization_mode="sync"`); and
with the policy, the trainer's population rollout (N random ABCD_lr individuals, hidden --mujoco-hidden, batched
between physics steps) against Gymnasium's per-env loop calling a numpy policy per env, one individual at a time.

    python scripts/bench_agents.py --mujoco 64 --threads 2 --json ant.json

`--train N` measures only the training loop of `underact train --env CartPole-v1` with the defaults (time to a
verified solve: the metrics' wall_s), seeds 0 … N−1, interleaved in one run: ours (the compiled CartPole-v1 rollout)
against the baseline, the same loop on the step-by-step vector-environment path (the loop before; its numbers must
be the same, checked), and the whole command in a fresh process (wall and CPU time). `--jax` adds the JAX reference
(`jax_reference`: the same network, rule, ES and verification, jitted, compile excluded); JAX is not a dependency
of underact, so it runs only where `pip install jax jaxlib` put it.

    taskset -c 0 python scripts/bench_agents.py --train 3 --jax --json train.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import numba
import numpy as np
import torch

from underact.agents import EnvSpec, PlasticNet, PopulationEvaluator, kernels
from underact.agents.hebbian import PlasticBatch
from underact.agents.rollout import (  # seeding, space and memory helpers, not public
    check_memory,
    derived_seed,
    evaluation_bytes,
    space_sizes,
    to_actions,
)
from underact.files import atomic_write, output_problem

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
    seed = derived_seed(SEED, GENERATION, 2**31 - 1) + k * episodes + e
    result = _per_env_policy_episode(env, net, genome, weights, seed)
    env.close()
    return result


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


def real_inputs(env_id: str, net: PlasticNet, genomes: np.ndarray, episodes: int, steps: int) -> list[np.ndarray]:
    """The observations [P, E, in] the population sees over its first `steps` steps (finished copies autoreset)."""
    terms = net.terms(torch.from_numpy(genomes))
    gens = [torch.Generator().manual_seed(derived_seed(SEED, GENERATION, k)) for k in range(len(genomes))]
    nets = PlasticBatch(net, net.initial_weights(terms, gens, episodes), [t.kernel_args for t in terms])
    env = EnvSpec(env_id).make(len(genomes) * episodes)
    obs, _ = env.reset(seed=SEED)
    seen = []
    for _ in range(steps):
        x = np.ascontiguousarray(obs, dtype=np.float32).reshape(len(genomes), episodes, -1)
        seen.append(x)
        out = nets.act(x)
        obs = env.step(to_actions(out.reshape(len(obs), -1), env.single_action_space))[0]
    env.close()
    return seen


def kernel_rate(net: PlasticNet, genomes: np.ndarray, episodes: int, inputs: list[np.ndarray], repeats: int) -> float:
    """Agent-steps/s of the batched forward pass + Hebbian update alone (no environment), on recorded real
    inputs: the best 20-step window of `repeats` passes over them (fresh weights each pass)."""
    terms = net.terms(torch.from_numpy(genomes))
    coefficients = [t.kernel_args for t in terms]
    best, window = 0.0, 20  # timed in windows of 20 steps: the best window is the machine left alone
    for r in range(repeats + 1):
        gens = [torch.Generator().manual_seed(derived_seed(SEED, GENERATION, k)) for k in range(len(genomes))]
        nets = PlasticBatch(net, net.initial_weights(terms, gens, episodes), coefficients)
        for start in range(0, len(inputs), window):
            chunk = inputs[start : start + window]
            t = time.perf_counter()
            for x in chunk:
                nets.act(x)
            if r:  # the first pass warms up
                best = max(best, len(chunk) * len(genomes) * episodes / (time.perf_counter() - t))
    return best


def trained_genome(env_id: str, hidden: tuple[int, ...], run: str | None) -> tuple[np.ndarray, str]:
    """(genome, where it came from): the best genome of run folder `run`, or one trained here (default ES)."""
    from underact.agents.trainer import TrainConfig, load_genome, train

    if run is not None:
        return load_genome(Path(run)), run
    with tempfile.TemporaryDirectory() as tmp:
        summary = train(TrainConfig(env=env_id, hidden=hidden), out=Path(tmp) / "run", progress=False)
        genome = load_genome(Path(tmp) / "run")
    return genome, f"trained here: {summary['generations']} generations, evaluated {summary['eval_mean_return']:.1f}"


@numba.njit(parallel=True, fastmath=kernels.FASTMATH)
def _stream(w, co):  # pragma: no cover - compiled
    """w [P, out, E, in] += the sum of the coefficient rows co [P, out, 4, in], read once per output."""
    for p in numba.prange(w.shape[0]):
        total = np.empty(w.shape[3], np.float32)
        for o in range(w.shape[1]):
            for i in range(w.shape[3]):
                total[i] = co[p, o, 0, i] + co[p, o, 1, i] + co[p, o, 2, i] + co[p, o, 3, i]
            for e in range(w.shape[2]):
                for i in range(w.shape[3]):
                    w[p, o, e, i] += total[i]


class Stream:
    """The layer kernels' memory traffic without their arithmetic, on arrays of a population's size (every layer in
    the rows layout, 2 MiB-aligned as the kernels' are): its rate in agent-steps/s is the ceiling of a
    step-synchronous rollout on this machine now (on numba's current thread count)."""

    def __init__(self, net: PlasticNet, population: int, episodes: int):
        self.agents = population * episodes
        self.arrays = []
        for o, i in net.shapes:
            w, co = kernels.empty((population, o, episodes, i)), kernels.empty((population, o, 4, i))
            w[...], co[...] = 0.0, 0.0  # adding zeros: the values stay put
            self.arrays.append((w, co))

    def rate(self, passes: int = 5) -> float:
        """Agent-steps/s: the best of `passes` passes over every layer (after one untimed pass)."""
        best = np.inf
        for r in range(passes + 1):
            start = time.perf_counter()
            for w, co in self.arrays:
                _stream(w, co)
            if r:
                best = min(best, time.perf_counter() - start)
        return self.agents / best


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


def measure(args, net: PlasticNet, hidden: tuple, genomes: np.ndarray) -> dict:
    """Every figure for one population of genomes."""
    ref, ref_mean = bench_reference(args.env, net, genomes, args.episodes, args.reference_repeats, args.workers)
    ours, ours_mean = bench_ours(args.env, net, genomes, args.episodes, args.repeats)
    inputs = real_inputs(args.env, net, genomes, args.episodes, args.kernel_steps)
    kernel = kernel_rate(net, genomes, args.episodes, inputs, args.repeats)
    row = {
        "reference": ref,
        "reference_mean_return": ref_mean,
        "ours": ours,
        "ours_mean_return": ours_mean,
        "kernel": kernel,
    }
    if not args.no_ray:
        row["ray"], _ = bench_ours_ray(args.env, hidden, genomes, args.episodes, args.repeats, args.workers)
    return row


def _per_env_policy_episode(env: gym.Env, net: PlasticNet, genome: np.ndarray, weights: list, seed: int) -> tuple:
    """(return, env steps) of one individual's episode in its own Gymnasium env, one step at a time: numpy
    forward pass and ABCD_lr update per layer (as `_reference_agent`), `weights` [out, in] per layer updated in
    place."""
    coeffs = []
    for layer, shape in enumerate(net.shapes):
        blocks = [b for b in net.layout() if b.layer == layer]
        coeffs.append([genome[b.offset : b.offset + shape[0] * shape[1]].reshape(shape) for b in blocks])
    obs, _ = env.reset(seed=seed)
    ret, steps, done = 0.0, 0, False
    while not done:
        pre = obs.astype(np.float32)
        for w, (a, b, c, d, eta) in zip(weights, coeffs, strict=True):
            post = np.tanh(w @ pre)
            w += eta * (a * np.outer(post, pre) + b * pre[None, :] + c * post[:, None] + d)
            pre = post
        obs, r, term, trunc, _ = env.step(to_actions(pre[None, :], env.action_space)[0])
        ret, steps, done = ret + float(r), steps + 1, term or trunc
    return ret, steps


def measure_own(args, hidden: tuple) -> dict:
    """Our own environment (`--own-env`): the compiled rollout (`underact.agents.compiled`: physics and networks in
    one compiled loop per individual) against the step-by-step vector-environment path, the same population of a
    trained genome's copies, interleaved, best of `repeats` each."""
    n_in, n_out = space_sizes(args.own_env)
    net = PlasticNet((n_in, *hidden, n_out), "ABCD_lr")
    genome, source = trained_genome(args.own_env, hidden, args.own_genome)
    net.terms(genome[None])
    kernels.use_threads(args.threads)
    genomes = np.repeat(genome[None].astype(np.float32), args.population, axis=0)
    evaluators = {
        mode: PopulationEvaluator(
            EnvSpec(args.own_env), net, len(genomes), args.episodes, SEED, compiled=mode == "compiled"
        )
        for mode in ("step_by_step", "compiled")
    }
    rates, means = dict.fromkeys(evaluators, 0.0), {}
    for ev in evaluators.values():
        ev.evaluate(genomes, 0, GENERATION)  # build the environment, compile or load the kernels
    for _ in range(args.repeats):
        for mode, ev in evaluators.items():
            start = time.perf_counter()
            returns, steps = ev.evaluate(genomes, 0, GENERATION)
            rates[mode] = max(rates[mode], steps / (time.perf_counter() - start))
            means[mode] = float(returns.mean())
    for ev in evaluators.values():
        ev.close()
    synapses = sum(o * i for o, i in net.shapes)
    own_bytes = 4 * (4 * synapses / args.episodes + 2 * synapses)
    return {
        "env": args.own_env,
        "sizes": net.sizes,
        "trained_genome": source,
        "agent_steps_per_s": rates,
        "mean_return": means,
        "bytes_per_agent_step": own_bytes,
    }


def bench_mujoco(num_envs: int, steps: int, threads: int, repeats: int, hidden: tuple, scale: float) -> dict:
    """Env steps/s of `num_envs` ants (`steps`-step episodes), the modes timed in turn `repeats` times (best kept),
    so that a busy machine slows them alike.

    Physics only (the same random actions for every mode): Gymnasium's sync loop, and the threaded vector
    environment with 1 and `threads` threads. With the policy (the trainer's population rollout): `num_envs`
    random ABCD_lr genomes (std `scale`, hidden `hidden`), one episode each, counting the steps of live agents:
    Gymnasium's per-env loop, one individual after another in one env with a numpy policy per step, against
    `PopulationEvaluator` (the batched fused kernel between physics steps of the threaded vector environment,
    one kernel thread as in training) with 1 and `threads` threads. Both draw the same fresh weights and start
    states, so their mean returns agree up to float32 rounding grown by the chaotic dynamics."""
    from underact.envs.ant import ENV_ID

    kernels.use_threads(1)
    torch.set_num_threads(1)
    limit = {"max_episode_steps": steps}
    thread_counts = sorted({1, threads})
    # physics only
    envs = {"gymnasium sync": gym.make_vec(ENV_ID, num_envs=num_envs, vectorization_mode="sync", **limit)}
    for t in thread_counts:
        name = f"ours, {t} thread{'s' * (t > 1)}"
        envs[name] = gym.make_vec(
            ENV_ID, num_envs=num_envs, vectorization_mode="vector_entry_point", threads=t, **limit
        )
    actions = np.random.default_rng(0).uniform(-1, 1, (steps, num_envs, 8)).astype(np.float32)
    physics = dict.fromkeys(envs, np.inf)
    for env in envs.values():  # warm up: compile the step kernel
        env.reset(seed=0)
        env.step(actions[0])
    for _ in range(repeats):
        for name, env in envs.items():
            env.reset(seed=0)
            start = time.perf_counter()
            for a in actions:
                env.step(a)
            physics[name] = min(physics[name], time.perf_counter() - start)
    for env in envs.values():
        env.close()
    # with the policy
    n_in, n_out = space_sizes(ENV_ID)
    net = PlasticNet((n_in, *hidden, n_out), "ABCD_lr")
    genomes = np.random.default_rng(1).normal(0, scale, (num_envs, net.num_params)).astype(np.float32)
    terms = net.terms(torch.from_numpy(genomes))
    single = gym.make(ENV_ID, **limit)
    env_seed = derived_seed(SEED, GENERATION, 2**31 - 1)
    lengths: list[int] = []  # episode lengths of the last per-env pass

    def per_env() -> tuple[np.ndarray, int]:
        gens = [torch.Generator().manual_seed(derived_seed(SEED, GENERATION, k)) for k in range(num_envs)]
        fresh = [w.numpy() for w in net.initial_weights(terms, gens, 1)]
        out = [
            _per_env_policy_episode(single, net, g, [w[k, 0] for w in fresh], env_seed + k)
            for k, g in enumerate(genomes)
        ]
        lengths[:] = [s for _, s in out]
        return np.array([r for r, _ in out]), sum(lengths)

    runners = {"gymnasium per-env loop": per_env}
    evaluators = []
    for t in thread_counts:
        ev = PopulationEvaluator(EnvSpec(ENV_ID, {**limit, "threads": t}), net, num_envs, 1, SEED)
        evaluators.append(ev)
        runners[f"ours, {t} thread{'s' * (t > 1)}"] = lambda ev=ev: ev.evaluate(genomes, 0, GENERATION)
    policy = dict.fromkeys(runners, 0.0)
    mean_return = {}
    for name, run in runners.items():  # warm up: build environments, compile
        mean_return[name] = float(run()[0].mean())
    for _ in range(repeats):
        for name, run in runners.items():
            start = time.perf_counter()
            _, n = run()
            policy[name] = max(policy[name], n / (time.perf_counter() - start))
    for ev in evaluators:
        ev.close()
    single.close()
    return {
        "env": ENV_ID,
        "num_envs": num_envs,
        "steps": steps,
        "threads": threads,
        "cores": len(os.sched_getaffinity(0)),
        "physics_env_steps_per_s": {name: num_envs * steps / t for name, t in physics.items()},
        "policy": {
            "rule": "ABCD_lr",
            "sizes": net.sizes,
            "scale": scale,
            "mean_return": mean_return,
            # the batch steps every copy until its longest episode ends: the share of those steps that are live
            "live_share": sum(lengths) / (num_envs * max(lengths)),
        },
        "policy_env_steps_per_s": policy,
    }


# --- the training loop: `underact train` with the defaults ------------------------------------------------------


def _train_once(seed: int, compiled: bool) -> dict:
    """One `train` with the default settings (CartPole-v1) in this process; `compiled=False` plays every generation
    on the step-by-step vector-environment path (the loop before the compiled CartPole-v1 rollout). Returns the
    summary with the metrics rows."""
    from underact.agents import rollout, trainer
    from underact.agents.config import TrainConfig

    original = rollout.compiled.compiled_env
    if not compiled:
        rollout.compiled.compiled_env = lambda env, net: False
    try:
        with tempfile.TemporaryDirectory() as tmp:
            summary = trainer.train(TrainConfig(seed=seed), out=Path(tmp) / "run", progress=False)
            rows = (Path(tmp) / "run" / "metrics.csv").read_text().splitlines()
    finally:
        rollout.compiled.compiled_env = original
    summary["metrics"] = [",".join(c for i, c in enumerate(r.split(",")) if i != 5) for r in rows]  # less wall_s
    return summary


def _command_once(seed: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of the whole `underact train --env CartPole-v1` command in a fresh
    process. On a shared machine the CPU time is the steadier figure: the wall time waits for the neighbours."""
    import resource
    import subprocess
    import sys

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "underact.cli", "train", "--env", "CartPole-v1", "--seed", str(seed)]
        start, start_cpu = time.perf_counter(), cpu()
        subprocess.run([*cmd, "--out", str(Path(tmp) / "run"), "--quiet"], check=True, capture_output=True)
        return time.perf_counter() - start, cpu() - start_cpu


def jax_reference(seed: int, population: int = 64, episodes: int = 4, hidden: int = 16) -> dict:
    """The same training in JAX (CPU), jitted: the network (4, hidden, 2), ABCD_lr with fresh U(-0.1, 0.1) weights
    per episode, CartPole-v1's Euler physics (float32, as gymnax), OpenAI-ES with antithetic sampling, centered ranks,
    Adam (lr 0.05, σ 0.1, both decaying by 0.999), the center evaluated as 4 extra individuals, a 100-episode
    verification once the center reaches 475, stopping at 479.75. Each generation is one jitted call (ask, rollout
    of all agents until the last episode ends, tell); timed on a second run, so compilation is excluded. Needs
    `pip install jax jaxlib` (not a dependency of underact)."""
    import jax
    import jax.numpy as jnp

    shapes = [(hidden, 4), (2, hidden)]
    sizes = [o * i for o, i in shapes]
    n_params = 5 * sum(sizes)

    def unpack(genome):  # [G] -> per layer (A, B, C, D) with η folded in, each (out, in)
        layers, offset = [], 0
        for (o, i), n in zip(shapes, sizes, strict=True):
            a, b, c, d, eta = (genome[offset + k * n : offset + (k + 1) * n].reshape(o, i) for k in range(5))
            layers.append((eta * a, eta * b, eta * c, eta * d))
            offset += 5 * n
        return layers

    def episode_batch(genome, key, n_episodes):  # one genome, n_episodes fresh networks -> returns [n_episodes]
        coeffs = unpack(genome)
        k_w, k_s = jax.random.split(key)
        weights = [
            jax.random.uniform(k, (n_episodes, o, i), minval=-0.1, maxval=0.1)
            for k, (o, i) in zip(jax.random.split(k_w, len(shapes)), shapes, strict=True)
        ]
        state = jax.random.uniform(k_s, (n_episodes, 4), minval=-0.05, maxval=0.05)

        def step(carry):
            t, state, weights, ret, done = carry
            pre, new_weights = state, []
            for w, (a, b, c, d) in zip(weights, coeffs, strict=True):
                post = jnp.tanh(jnp.einsum("eoi,ei->eo", w, pre))
                new_weights.append(w + (a * post[:, :, None] + b) * pre[:, None, :] + c * post[:, :, None] + d)
                pre = post
            force = jnp.where(pre[:, 1] > pre[:, 0], 10.0, -10.0)
            x, x_dot, theta, theta_dot = state.T
            cos, sin = jnp.cos(theta), jnp.sin(theta)
            temp = (force + 0.05 * theta_dot**2 * sin) / 1.1
            alpha = (9.8 * sin - cos * temp) / (0.5 * (4.0 / 3.0 - 0.1 * cos**2 / 1.1))
            acc = temp - 0.05 * alpha * cos / 1.1
            state = jnp.stack(
                [x + 0.02 * x_dot, x_dot + 0.02 * acc, theta + 0.02 * theta_dot, theta_dot + 0.02 * alpha], axis=1
            )
            ret = ret + jnp.where(done, 0.0, 1.0)
            fell = (jnp.abs(state[:, 0]) > 2.4) | (jnp.abs(state[:, 2]) > 12 * 2 * np.pi / 360)
            return t + 1, state, new_weights, ret, done | fell | (t + 1 >= 500)

        carry = (0, state, weights, jnp.zeros(n_episodes), jnp.zeros(n_episodes, bool))
        carry = jax.lax.while_loop(lambda c: ~jnp.all(c[4]), step, carry)
        return carry[3]

    def centered_ranks(x):
        ranks = jnp.argsort(jnp.argsort(x))
        return ranks / (x.size - 1) - 0.5

    @jax.jit
    def generation(es, key):
        center, m, v, t, sigma, lr = es
        k_eps, k_eval = jax.random.split(key)
        half = jax.random.normal(k_eps, (population // 2, n_params))
        eps = jnp.stack([half, -half], axis=1).reshape(population, n_params)
        batch = jnp.concatenate([center + sigma * eps, jnp.repeat(center[None], 4, axis=0)])
        keys = jax.random.split(k_eval, population + 4)
        returns = jax.vmap(episode_batch, in_axes=(0, 0, None))(batch, keys, episodes)
        fitness = returns[:population].mean(axis=1)
        grad = centered_ranks(fitness) @ eps / (population * sigma)
        t = t + 1
        m, v = 0.9 * m + 0.1 * grad, 0.999 * v + 0.001 * grad**2
        step = lr * (m / (1 - 0.9**t)) / (jnp.sqrt(v / (1 - 0.999**t)) + 1e-8)
        new = (center + step, m, v, t, jnp.maximum(0.01, sigma * 0.999), jnp.maximum(0.001, lr * 0.999))
        return new, returns[population:].mean(), center

    verify = jax.jit(lambda genome, key: episode_batch(genome, key, 100).mean())

    def run(run_seed):
        zeros = jnp.zeros(n_params)
        es, key = (zeros, zeros, zeros, 0, 0.1, 0.05), jax.random.PRNGKey(run_seed)
        start = time.perf_counter()
        for gen in range(100):
            key, k_gen, k_verify = jax.random.split(key, 3)
            es, center_return, center = generation(es, k_gen)
            if float(center_return) >= 475.0 and float(verify(center, k_verify)) >= 479.75:
                return gen + 1, time.perf_counter() - start
        return 100, time.perf_counter() - start

    run(seed + 1000)  # compiles every shape (a warm-up run to a solve)
    generations, seconds = run(seed)
    return {"generations": generations, "loop_s": seconds, "jax": jax.__version__}


def bench_train(rounds: int, use_jax: bool) -> dict:
    """`rounds` interleaved rounds, seeds 0 … rounds − 1: our loop (compiled CartPole-v1 rollout), the step-by-step
    loop (the baseline, same numbers required), the JAX reference when asked for, and the whole command."""
    rows = []
    _train_once(0, True)  # loads the kernels' caches and the imports once
    for seed in range(rounds):
        ours, base = _train_once(seed, True), _train_once(seed, False)
        if ours["metrics"] != base["metrics"]:
            raise SystemExit(f"seed {seed}: the compiled and step-by-step loops disagree")
        row = {
            "seed": seed,
            "generations": ours["generations"],
            "loop_s": ours["wall_s"],
            "step_by_step_loop_s": base["wall_s"],
        }
        row["command_s"], row["command_cpu_s"] = _command_once(seed)
        if use_jax:
            row["jax"] = jax_reference(seed)
        rows.append(row)
    return {"rounds": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--env", default="CartPole-v1", help="Gymnasium id (default CartPole-v1)")
    ap.add_argument("--hidden", default="128,64", help="hidden layer sizes (default: the paper's 128,64)")
    ap.add_argument("--population", type=int, default=64)
    ap.add_argument("--episodes", type=int, default=4, help="episodes per individual (default 4, as training)")
    ap.add_argument("--genome", metavar="RUN", help="run folder whose best genome is the trained one")
    ap.add_argument("--no-ray", action="store_true", help="skip the Ray-backend measurement")
    ap.add_argument("--repeats", type=int, default=5, help="timed repetitions of ours; the best is reported")
    ap.add_argument("--reference-repeats", type=int, default=1, help="timed repetitions of the reference")
    ap.add_argument("--kernel-steps", type=int, default=200, help="recorded real inputs for the kernel figure")
    ap.add_argument("--workers", type=int, default=os.cpu_count(), help="reference pool size (default: cores)")
    ap.add_argument("--threads", type=int, default=1, help="threads for ours (default 1, as training uses)")
    ap.add_argument("--scale", type=float, default=0.05, help="std of the random genomes")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    ap.add_argument("--own-env", default="underact/CartPoleBalance-v0", help="our environment for the compiled rollout")
    ap.add_argument("--own-genome", metavar="RUN", help="run folder of a genome trained on --own-env (default: train)")
    ap.add_argument("--mujoco", type=int, metavar="N", help="only the MuJoCo section: N ants (see above)")
    ap.add_argument("--mujoco-steps", type=int, default=200, help="episode length of the MuJoCo section (default 200)")
    ap.add_argument("--mujoco-hidden", default="32", help="hidden sizes of its policy (default 32, as the experiment)")
    ap.add_argument("--train", type=int, metavar="N", help="only the training-loop section: N interleaved rounds")
    ap.add_argument("--jax", action="store_true", help="with --train: also the JAX reference (needs jax installed)")
    args = ap.parse_args()
    if args.json is not None and (problem := output_problem(args.json)) is not None:
        ap.error(f"--json {args.json}: {problem}")
    counts = ("population", "episodes", "repeats", "reference_repeats", "kernel_steps", "workers", "threads")
    for name in counts:
        if getattr(args, name) is None or getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be a positive integer; got {getattr(args, name)}")
    if args.mujoco is not None and args.mujoco < 1 or args.mujoco_steps < 1:
        ap.error(f"--mujoco and --mujoco-steps must be positive integers; got {args.mujoco}, {args.mujoco_steps}")
    if not (np.isfinite(args.scale) and args.scale >= 0):
        ap.error(f"--scale must be a finite number >= 0; got {args.scale}")
    cores = os.cpu_count() or 1
    if args.workers > 8 * cores or args.threads > 8 * cores:
        ap.error(
            f"--workers and --threads must be at most {8 * cores} (8 per core); got {args.workers}, {args.threads}"
        )
    if args.train is not None:
        if args.train < 1:
            ap.error(f"--train must be a positive integer; got {args.train}")
        if args.jax:
            try:
                import jax  # noqa: F401
            except ImportError:
                ap.error("--jax needs JAX (pip install jax jaxlib); it is not a dependency of underact")
        r = bench_train(args.train, args.jax)
        print(
            f"underact train --env CartPole-v1 (defaults), seeds 0 … {args.train - 1} interleaved; loop = the "
            "metrics' wall_s (ES generations and verifications), JAX compile excluded"
        )
        for row in r["rounds"]:
            loop, base = row["loop_s"], row["step_by_step_loop_s"]
            line = (
                f"   seed {row['seed']}: {row['generations']:3d} generations  loop {loop:6.3f} s  "
                f"step-by-step loop {base:6.3f} s ({loop / base:.2f}x)  whole command {row['command_s']:5.2f} s "
                f"({row['command_cpu_s']:.2f} s CPU)"
            )
            if "jax" in row:
                j = row["jax"]
                per_gen = (loop / row["generations"]) / (j["loop_s"] / j["generations"])
                line += (
                    f"  JAX {j['generations']} generations {j['loop_s']:6.3f} s "
                    f"({loop / j['loop_s']:.2f}x; per generation {per_gen:.2f}x)"
                )
            print(line)
        if args.json:
            atomic_write(args.json, (json.dumps(r, indent=2) + "\n").encode())
        return
    if args.jax:
        ap.error("--jax goes with --train")
    if args.mujoco:
        try:
            hidden = tuple(int(h) for h in args.mujoco_hidden.split(",") if h)
            PlasticNet((1, *hidden, 1), "ABCD_lr")
        except ValueError as exc:
            ap.error(f"--mujoco-hidden: {exc}")
        r = bench_mujoco(args.mujoco, args.mujoco_steps, args.threads, args.repeats, hidden, args.scale)
        print(
            f"{r['env']}  {args.mujoco} copies, {args.mujoco_steps}-step episodes, {r['cores']} cores available, "
            f"best of {args.repeats}"
        )
        for title, key, base in (
            ("physics only (random actions)", "physics_env_steps_per_s", "gymnasium sync"),
            (
                f"with the policy (ABCD_lr {r['policy']['sizes']}, one episode per individual)",
                "policy_env_steps_per_s",
                "gymnasium per-env loop",
            ),
        ):
            rates = r[key]
            print(f"-- {title}")
            for name, rate in rates.items():
                ret = f"   mean return {r['policy']['mean_return'][name]:7.1f}" if key.startswith("policy") else ""
                print(f"   {name:24s} {rate:8.0f} env steps/s   {rate / rates[base]:5.2f} x {base}{ret}")
        print(
            f"   (the batch steps every copy until the longest episode ends; {r['policy']['live_share']:.0%} of its "
            "env steps were those of live agents, the only ones counted)"
        )
        if args.json:
            atomic_write(args.json, (json.dumps(r, indent=2) + "\n").encode())
        return

    torch.set_num_threads(args.threads)
    kernels.use_threads(args.threads)
    try:  # every section's settings, checked before the minutes of the first sections
        hidden = tuple(int(h) for h in args.hidden.split(",") if h)
        n_in, n_out = space_sizes(args.env)
        own_in, own_out = space_sizes(args.own_env)
        own_net = PlasticNet((own_in, *hidden, own_out), "ABCD_lr")
        if args.own_genome is not None:
            own_net.terms(trained_genome(args.own_env, (), args.own_genome)[0][None])
        net = PlasticNet((n_in, *hidden, n_out), "ABCD_lr")
        # genomes, weights in two layouts and environment copies; the recorded kernel inputs; the two streams
        needed = evaluation_bytes(net, "native", args.population, args.episodes) * 2
        needed += 4 * args.kernel_steps * args.population * args.episodes * n_in
        for each in (net, own_net):
            needed += 4 * args.population * (4 + args.episodes) * sum(o * i for o, i in each.shapes)
        check_memory("this benchmark", needed, "use a smaller --population, --episodes or --kernel-steps")
    except (ValueError, OSError) as exc:
        ap.error(str(exc))
    n = sum(o * i for o, i in net.shapes)  # synapses
    bytes_per_step = 4 * (4 * n / args.episodes + 2 * n)
    working_set = 4 * args.population * (4 + args.episodes) * n
    # The machine's cache bandwidth varies with its neighbours' load: the ceilings are sampled before every section,
    # and each takes its best sample (the ceiling is what the machine can do; "reached" errs low, not high).
    streams = {
        "main": Stream(net, args.population, args.episodes),
        "own": Stream(own_net, args.population, args.episodes),
    }
    samples = {name: [] for name in streams}

    def sample():
        kernels.use_threads(args.threads)
        for name, stream in streams.items():
            samples[name].append(stream.rate())

    sample()
    try:
        trained, source = trained_genome(args.env, hidden, args.genome)
        net.terms(trained[None])  # a genome of another network size: one line, not a traceback later
    except (ValueError, OSError) as exc:
        ap.error(str(exc))
    kernels.use_threads(args.threads)  # again: training the genome here ran the trainer, which sets one thread
    populations = {
        "random": np.random.default_rng(1).normal(0, args.scale, (args.population, net.num_params)).astype(np.float32),
        "trained": np.repeat(trained[None].astype(np.float32), args.population, axis=0),
    }
    results = {
        "env": args.env,
        "sizes": net.sizes,
        "population": args.population,
        "episodes": args.episodes,
        "threads": args.threads,
        "workers": args.workers,
        "trained_genome": source,
        "bytes_per_agent_step": bytes_per_step,
        "working_set_bytes": working_set,
        "dram_copy_bandwidth": copy_bandwidth(1 << 30),
        "populations": {},
    }
    for name, g in populations.items():
        sample()
        results["populations"][name] = measure(args, net, hidden, g)
    sample()
    try:
        results["own_env"] = measure_own(args, hidden)
    except (ValueError, OSError) as exc:
        ap.error(str(exc))
    sample()
    ceiling = results["ceiling"] = max(samples["main"])
    results["ceiling_samples"] = samples["main"]
    results["stream_bandwidth"] = l3 = ceiling * bytes_per_step  # bytes/s of the kernels' traffic
    for r in results["populations"].values():
        r["ceiling"] = ceiling
    results["own_env"]["ceiling"] = max(samples["own"])
    results["own_env"]["ceiling_samples"] = samples["own"]

    print(
        f"{args.env}  sizes {net.sizes}  population {args.population} x {args.episodes} episodes  ABCD_lr  "
        f"threads {args.threads}  reference pool {args.workers} processes  trained genome: {source}"
    )
    print(
        f"bytes per agent-step {bytes_per_step / 1e3:.1f} kB, working set {working_set / 2**20:.1f} MiB; "
        f"the kernels' traffic streams at {l3 / 1e9:.1f} GB/s (best of {len(samples['main'])} samples over the run; "
        f"the ceiling); DRAM copy {results['dram_copy_bandwidth'] / 1e9:.1f} GB/s"
    )
    for name, r in results["populations"].items():
        print(f"-- {name} genomes (ours: mean return {r['ours_mean_return']:.1f})")
        print(f"   reference ({args.workers} proc)   {r['reference']:10.0f} agent-steps/s")
        print(f"   ours, 1 process     {r['ours']:10.0f} agent-steps/s   {r['ours'] / r['reference']:6.2f} x reference")
        if "ray" in r:
            scaling = r["ray"] / r["ours"]
            print(f"   ours, Ray {args.workers} workers {r['ray']:10.0f} agent-steps/s   {scaling:6.2f} x 1 process")
        print(f"   kernel alone        {r['kernel']:10.0f} agent-steps/s (real inputs)")
        print(
            f"   ceiling             {r['ceiling']:10.0f} agent-steps/s   reached: "
            f"rollout {r['ours'] / r['ceiling']:6.1%}, kernel {r['kernel'] / r['ceiling']:6.1%}"
        )
    own = results["own_env"]
    rates = own["agent_steps_per_s"]
    print(f"-- {own['env']}, a trained genome's copies ({own['trained_genome']}); mean return {own['mean_return']}")
    print(f"   step by step        {rates['step_by_step']:10.0f} agent-steps/s   (vector environment, batch per step)")
    print(
        f"   compiled rollout    {rates['compiled']:10.0f} agent-steps/s   "
        f"{rates['compiled'] / rates['step_by_step']:6.2f} x step by step; "
        f"{rates['compiled'] / own['ceiling']:6.1%} of the step-synchronous ceiling {own['ceiling']:.0f}"
    )
    if args.json:
        atomic_write(args.json, (json.dumps(results, indent=2) + "\n").encode())


if __name__ == "__main__":
    main()
