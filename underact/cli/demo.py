"""`underact demo`: the toolkit's core job in a few seconds — terms from three engines, actuation, controllability."""

from __future__ import annotations

from underact.plants import load


def register(subparsers) -> None:
    p = subparsers.add_parser("demo", help="analyse the acrobot and cart-pole on every backend (a few seconds)",
                              description="Loads the acrobot and the cart-pole from Drake's shipped models, MuJoCo "
                              "and the closed-form equations, checks the three agree, and classifies their actuation.")
    p.add_argument("--states", type=int, default=50, help="random states for the agreement check")
    p.set_defaults(func=run)


def run(args) -> int:
    from underact.analysis import analyze
    from underact.crosscheck import crosscheck

    ok = True
    for name in ("acrobot", "cartpole"):
        plants = {b: load(name, b) for b in ("analytic", "drake", "mujoco")}
        report = analyze(plants["drake"])
        print(report.text())
        for other in ("mujoco", "analytic"):
            diffs = crosscheck(plants["drake"], plants[other], states=args.states)
            worst = max(d.max_abs for d in diffs)
            agree = all(d.ok for d in diffs)
            ok &= agree
            print(f"  drake vs {other:<8}: M, Cv, tau_g, B agree to {worst:.1e} at {args.states} random states"
                  + ("" if agree else "  ** DISAGREE **"))
        print()
    return 0 if ok else 1
