"""Benchmark: environment steps per second of our environments against their baselines, all in one run.

Measured here, interleaved (every benchmark once per repeat, best of each kept), each on one pinned core unless
it says two. Many short timings (20 of 50 steps by default) rather than a few long ones: on a shared VM a two-core
step waits for the slower of its threads, so a hiccup on either core spoils a whole timing window, and the best of
many short windows measures what the machine does when left alone, for one and two cores alike:
- vector environments at N copies: `underact/CartPoleBalance-v0` against Gymnasium's `CartPoleVectorEnv`
  (`CartPole-v1`, one Euler step per step against our RK4), and `underact/AcrobotSwingUp-v0` against the same
  environment stepped by the plain-numpy batched path (`underact.simulate.rk4.Kernel.numpy` and the systems'
  numpy observation and outcome: the oracle of the compiled kernel);
- both vector environments on two cores (two numba threads) against one;
- the single environment `underact/CartPoleBalance-v0` against `gymnasium.make("CartPole-v1")`.

    python scripts/bench_envs.py                                    # N = 4096, prints the table
    python scripts/bench_envs.py --json docs/benchmarks/envs.json   # also writes the docs' JSON record
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import sys
import time
from pathlib import Path

import gymnasium as gym
import numba
import numpy as np

import underact.envs  # noqa: F401 - registers the ids
from underact.envs import packed
from underact.files import atomic_write, output_problem

#: Untimed steps at the start of every timing (see `timed`).
WARM_STEPS = 3
#: The largest --num-envs: five vector environments of that many copies stay within a few GB.
MAX_ENVS = 1 << 22


def timed(step, calls: int, per_call: int):
    """A runner: `calls` calls of `step` (each advances `per_call` environments) → environment steps/s.

    Each run first steps a few times untimed: the benchmarks run interleaved, so a runner starts with caches the
    others filled (and, after pinning, on another core); the timing is of the environment stepping, not of that.
    """

    def run() -> float:
        for _ in range(WARM_STEPS):
            step()
        start = time.perf_counter()
        for _ in range(calls):
            step()
        return calls * per_call / (time.perf_counter() - start)

    for _ in range(min(10, calls)):  # warm-up (compilation, caches)
        step()
    return run


def on_cores(cores: int, runner):
    """`runner` pinned to the first `cores` CPUs with as many numba threads."""
    allowed = sorted(os.sched_getaffinity(0))

    def run() -> float:
        os.sched_setaffinity(0, allowed[:cores])
        numba.set_num_threads(cores)
        try:
            return runner()
        finally:
            os.sched_setaffinity(0, allowed)

    return run


def single(env_id: str, steps: int, seed: int):
    env = gym.make(env_id)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(64)]
    count = iter(range(10**12))

    def step():
        _, _, terminated, truncated, _ = env.step(actions[next(count) % 64])
        if terminated or truncated:
            env.reset()

    return timed(step, steps, 1)


class NumpyPackedStep(packed.PackedStep):
    """`PackedStep.run` through the plain-numpy oracle (`underact.envs.packed.numpy_step`): the numpy path."""

    def run(self, constants: packed.BatchConstants, x, counts, u, out, counts_out, threads=None) -> tuple:
        c, done = constants, counts[packed.DONE] != 0
        steps, episodes = counts[packed.STEPS], counts[packed.EPISODES]
        state = packed.numpy_step(self.task, x, u, c.gain, done, steps, c.max_steps, c.key, episodes, c.limit)
        out[...] = state[0]
        counts_out[packed.STEPS], counts_out[packed.DONE] = state[5], state[6]
        counts_out[packed.EPISODES], counts_out[packed.FLAGS] = state[7], state[8]
        return (*state[1:5], state[9])


def vector_env(env_id: str, n: int, numpy_path: bool = False) -> gym.vector.VectorEnv:
    """Our (or Gymnasium's) native vector env; `numpy_path`: ours stepped by the plain-numpy oracle instead."""
    vec = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point")
    if numpy_path:
        env = vec.unwrapped
        env._packed = NumpyPackedStep(env.task)  # what the vector env's step calls
    return vec


def vector(env_id: str, n: int, steps: int, seed: int, numpy_path: bool = False):
    """A runner of `vector_env`, stepped with one fixed batch of random actions."""
    vec = vector_env(env_id, n, numpy_path)
    vec.reset(seed=seed)
    vec.action_space.seed(seed)
    actions = vec.action_space.sample()
    return timed(lambda: vec.step(actions), steps, n)


def kernel(env_id: str, n: int, steps: int, seed: int):
    """The compiled step alone (`underact.envs.packed.PackedStep.run` on a fixed batch mid-episode, its constants
    made once, no Python around it): how far the kernel itself scales with cores, apart from the environment's
    per-step Python."""
    vec = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point")
    vec.reset(seed=seed)
    vec.action_space.seed(seed)
    actions = vec.action_space.sample()
    for _ in range(20):
        vec.step(actions)
    env = vec.unwrapped
    out, counts_out = np.empty_like(env._x), np.empty_like(env._counts)
    step = packed.PackedStep(env.task)
    constants = step.constants(env.actuator_gain, 500, env._key)
    args = (constants, env._x, env._counts, env._actions(actions), out, counts_out)
    return timed(lambda: step.run(*args), steps, n)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=4096, help="copies per vector env (default 4096)")
    parser.add_argument("--vector-steps", type=int, default=50, help="vector steps per timing (default 50)")
    parser.add_argument("--single-steps", type=int, default=20000, help="single-env steps timed (default 20000)")
    parser.add_argument("--repeats", type=int, default=20, help="interleaved repeats, best kept (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the docs' benchmark record here (docs/benchmarks/envs.json)")
    args = parser.parse_args(argv)
    if min(args.num_envs, args.vector_steps, args.single_steps, args.repeats) < 1:
        parser.error("--num-envs, --vector-steps, --single-steps and --repeats must be positive")
    if args.num_envs > MAX_ENVS:  # several vector envs of N copies each, Gymnasium's among them
        parser.error(f"--num-envs must be at most {MAX_ENVS:,}; got {args.num_envs:,}")
    if args.json is not None and (problem := output_problem(args.json)) is not None:
        parser.error(f"--json {args.json}: {problem}")
    if len(os.sched_getaffinity(0)) < 2 or numba.config.NUMBA_NUM_THREADS < 2:
        parser.error("needs two cores (and numba threads) for the two-core figures")
    n, seed, vs, ss = args.num_envs, args.seed, args.vector_steps, args.single_steps
    runners = {
        "cart_gym": on_cores(1, vector("CartPole-v1", n, vs, seed)),
        "cart_1": on_cores(1, vector("underact/CartPoleBalance-v0", n, vs, seed)),
        "cart_2": on_cores(2, vector("underact/CartPoleBalance-v0", n, vs, seed)),
        "acro_numpy": on_cores(1, vector("underact/AcrobotSwingUp-v0", n, vs, seed, numpy_path=True)),
        "acro_1": on_cores(1, vector("underact/AcrobotSwingUp-v0", n, vs, seed)),
        "acro_2": on_cores(2, vector("underact/AcrobotSwingUp-v0", n, vs, seed)),
        "cart_k1": on_cores(1, kernel("underact/CartPoleBalance-v0", n, vs, seed)),
        "cart_k2": on_cores(2, kernel("underact/CartPoleBalance-v0", n, vs, seed)),
        "acro_k1": on_cores(1, kernel("underact/AcrobotSwingUp-v0", n, vs, seed)),
        "acro_k2": on_cores(2, kernel("underact/AcrobotSwingUp-v0", n, vs, seed)),
        "single_gym": on_cores(1, single("CartPole-v1", ss, seed)),
        "single": on_cores(1, single("underact/CartPoleBalance-v0", ss, seed)),
    }
    best = dict.fromkeys(runners, 0.0)
    for _ in range(args.repeats):  # interleaved: the machine's load affects every benchmark alike
        for name, run in runners.items():
            best[name] = max(best[name], run())
    checks = [  # (what, ours, baseline, target)
        (f"`CartPoleBalance-v0` vector, N = {n}, 1 core, vs Gymnasium `CartPoleVectorEnv`", "cart_1", "cart_gym", 1.0),
        (f"`AcrobotSwingUp-v0` vector, N = {n}, 1 core, vs the plain-numpy batched path", "acro_1", "acro_numpy", 3.0),
        ("`CartPoleBalance-v0` vector, 2 cores vs 1", "cart_2", "cart_1", 1.8),
        ("`AcrobotSwingUp-v0` vector, 2 cores vs 1", "acro_2", "acro_1", 1.8),
        ('`CartPoleBalance-v0` single env vs `gymnasium.make("CartPole-v1")`', "single", "single_gym", 1.0),
        ("`CartPoleBalance-v0` compiled step alone, 2 cores vs 1 (no target)", "cart_k2", "cart_k1", None),
        ("`AcrobotSwingUp-v0` compiled step alone, 2 cores vs 1 (no target)", "acro_k2", "acro_k1", None),
    ]
    rows = []
    for what, ours, base, target in checks:
        ratio = best[ours] / best[base]
        verdict = "" if target is None else f"≥ {target:g}×: " + ("pass" if ratio >= target else "below")
        rows.append([what, f"{best[ours]:,.0f}", f"{best[base]:,.0f}", f"{ratio:.2f}×", verdict])
    cpu = platform.processor() or platform.machine()
    print(f"machine: {cpu}, {os.cpu_count()} cores, numpy {np.__version__}, numba {numba.__version__}")
    for row in rows:
        print(" | ".join(row))
    if args.json:
        record = {
            "order": 5,
            "title": "Environment throughput",
            "summary": f"Environment steps per second, N = {n} copies for vector environments; {args.repeats} "
            "interleaved repeats of every benchmark, best of each, each pinned to one core unless it says two, each "
            f"timing after {WARM_STEPS} untimed steps.",
            "machine": f"{cpu}, {os.cpu_count()} cores",
            "command": "python " + " ".join(["scripts/bench_envs.py", *(argv if argv is not None else sys.argv[1:])]),
            "date": datetime.date.today().isoformat(),
            "software": f"Python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}, "
            f"gymnasium {gym.__version__}, mujoco {importlib.metadata.version('mujoco')}",
            "tables": [
                {
                    "caption": "",
                    "columns": ["comparison", "ours (steps/s)", "baseline (steps/s)", "ratio", "target"],
                    "align": "lrrrl",
                    "rows": rows,
                }
            ],
            "notes": [
                "Ours run RK4 (two steps per environment step for the acrobot, one for the cart-pole) with "
                "continuous forces and trigonometric features; Gymnasium's `CartPole-v1` takes one explicit Euler "
                "step with discrete ±10 N actions.",
                "The compiled path fuses RK4 on the closed form, the observation and the reward of every copy in one "
                "numba kernel (`underact.envs.packed.fused_kernels`' `batch`); the plain-numpy path is its test "
                "oracle (`underact.simulate.rk4.Kernel.numpy`).",
            ],
        }
        atomic_write(args.json, (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode())
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
