"""Per-state cost of `plant.terms(q, v)` for the acrobot on each backend, measured in one run.

The baseline is a Python loop over Drake (one `terms` call per state, what a user writes first); the ratios say
how many times faster each alternative is on this machine, now. Usage: python scripts/bench_terms.py --help
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from underact import load


def per_state_us(fn, n_states: int, repeats: int) -> float:
    """Best-of-`repeats` wall time of fn() divided by the number of states, in microseconds."""
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best / n_states * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=2000, help="batch size (default 2000)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--model", default="acrobot", choices=["acrobot", "cartpole", "pendulum"])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    plants = {b: load(args.model, b) for b in ("drake", "mujoco", "analytic")}
    q = plants["analytic"].random_q(rng, args.states)
    v = rng.normal(size=q.shape)
    loop = args.states // 10  # Python loops are slow; a tenth of the states is plenty for a per-state figure
    cases = {
        "drake, Python loop (baseline)": (lambda: [plants["drake"].terms(q[i], v[i]) for i in range(loop)], loop),
        "drake, batched call": (lambda: plants["drake"].terms(q, v), args.states),
        "mujoco, Python loop": (lambda: [plants["mujoco"].terms(q[i], v[i]) for i in range(loop)], loop),
        "mujoco, batched call": (lambda: plants["mujoco"].terms(q, v), args.states),
        "analytic, Python loop": (lambda: [plants["analytic"].terms(q[i], v[i]) for i in range(loop)], loop),
        "analytic, batched (numpy)": (lambda: plants["analytic"].terms(q, v), args.states),
    }
    results = {name: per_state_us(fn, n, args.repeats) for name, (fn, n) in cases.items()}
    base = results["drake, Python loop (baseline)"]
    print(f"terms() for the {args.model}, {args.states} states, best of {args.repeats}")
    print(f"{'case':<32} {'µs/state':>10} {'speed-up':>10}")
    for name, us in results.items():
        print(f"{name:<32} {us:10.2f} {base / us:9.1f}×")


if __name__ == "__main__":
    main()
