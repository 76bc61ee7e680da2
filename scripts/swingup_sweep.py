"""Swing-up sweep: every seed × system × backend, hanging start to upright within the duration; prints a table.

    python scripts/swingup_sweep.py --seeds 10 --backends drake mujoco --duration 12

Each run is `simulate(plant, swing_up_and_balance(plant), *initial_state(plant, seed), duration)`; success is the
`underact simulate` criterion (the last 2 s within 0.05 rad of upright, speeds below 0.2). The last column is
simulated seconds per wall-clock second (the baseline is real time). Progress goes to stderr; the table (and
`--json` rows) to stdout. Exit code 1 if any run fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from tqdm import tqdm

import underact
from underact.control.switching import swing_up_and_balance
from underact.simulate import initial_state, simulate, summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    ap.add_argument("--systems", nargs="+", default=["acrobot", "cartpole"], choices=["acrobot", "cartpole"])
    ap.add_argument("--backends", nargs="+", default=["drake", "mujoco"], choices=list(underact.BACKENDS))
    ap.add_argument("--duration", type=float, default=12.0, help="simulated seconds per run (default 12)")
    ap.add_argument("--json", action="store_true", help="also print one JSON summary per run")
    args = ap.parse_args(argv)

    runs = [(s, b, k) for s in args.systems for b in args.backends for k in range(args.seeds)]
    rows = []
    for system, backend, seed in tqdm(runs, desc="swing-up sweep", file=sys.stderr):
        plant = underact.load(system, backend)
        start = time.perf_counter()
        traj = simulate(plant, swing_up_and_balance(plant), *initial_state(plant, seed), args.duration)
        s = summary(plant, traj, "swingup") | {"seed": seed, "wall_s": round(time.perf_counter() - start, 2)}
        rows.append(s)
        if args.json:
            print(json.dumps(s))

    header = ("system", "backend", "upright", "t_up mean", "t_up max", "max|u|", "wall s/run", "x real time")
    print("{:<9} {:<8} {:>8} {:>10} {:>9} {:>8} {:>10} {:>11}".format(*header))
    for system in args.systems:
        for backend in args.backends:
            group = [r for r in rows if r["system"] == system and r["backend"] == backend]
            times = [r["time_to_upright"] for r in group if r["upright"]]
            ok = sum(r["upright"] for r in group)
            mean = f"{sum(times) / len(times):.2f}" if times else "-"
            worst = f"{max(times):.2f}" if times else "-"
            umax = max(r["max_abs_u"] for r in group)
            wall = sum(r["wall_s"] for r in group) / len(group)
            speed = args.duration / wall
            print(
                f"{system:<9} {backend:<8} {ok:>4}/{len(group):<3} {mean:>10} {worst:>9} {umax:>8.1f} {wall:>10.1f} "
                f"{speed:>11.2f}"
            )
    failed = [(r["system"], r["backend"], r["seed"]) for r in rows if not r["upright"]]
    if failed:
        print(f"failed: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
