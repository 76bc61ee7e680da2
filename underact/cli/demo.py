"""`underact demo`: the toolkit's core job in under a minute — terms from three engines, actuation, swing-up."""

from __future__ import annotations

from pathlib import Path

from underact.cli import argtypes
from underact.plants import load

#: The agreement check's largest sample; the demo is meant to take under a minute.
MAX_STATES = 10_000


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo",
        help="analyse the acrobot and cart-pole on every backend, then swing them up (under a minute)",
        description="Loads the acrobot and the cart-pole from Drake's shipped models, MuJoCo and the closed-form "
        "equations, checks the three agree, classifies their actuation, then swings both up and balances them "
        "on MuJoCo, writing a plot and an animation of each.",
    )
    p.add_argument(
        "--states",
        type=argtypes.count(MAX_STATES),
        default=50,
        help=f"random states for the agreement check, 1 to {MAX_STATES} (default 50)",
    )
    p.add_argument("--out", type=Path, default=Path("runs/demo"), help="folder for plots and GIFs (runs/demo)")
    p.set_defaults(func=run)


def run(args) -> int:
    from underact.analysis import analyze
    from underact.cli import main
    from underact.cli.simulate import prepare_out
    from underact.crosscheck import crosscheck

    for name in ("acrobot", "cartpole"):  # before any work: the runs at the end write there
        prepare_out(args.out / name)
    ok = True
    for name in ("acrobot", "cartpole"):
        plants = {b: load(name, b) for b in ("analytic", "drake", "mujoco")}
        print(analyze(plants["drake"]).text())
        for other in ("mujoco", "analytic"):
            diffs = crosscheck(plants["drake"], plants[other], states=args.states)
            worst = max(d.max_abs for d in diffs)
            agree = all(d.ok for d in diffs)
            ok &= agree
            print(
                f"  drake vs {other:<8}: M, Cv, tau_g, B agree to {worst:.1e} at {args.states} random states"
                + ("" if agree else "  ** DISAGREE **")
            )
        print()
    for name in ("acrobot", "cartpole"):
        code = main(
            [
                "simulate",
                name,
                "--controller",
                "swingup",
                "--backend",
                "mujoco",
                "--duration",
                "10",
                "--out",
                str(args.out / name),
            ]
        )
        ok &= code == 0
    return 0 if ok else 1
