"""`underact equation`, `underact analyze`, `underact crosscheck`: the manipulator equation and what it implies."""

from __future__ import annotations

import json
import math

import numpy as np

from underact.errors import UnderactError
from underact.plants import BACKENDS, BUILTINS, load


def parse_vector(text: str, n: int, flag: str) -> np.ndarray:
    """'0.3,-0.2' → array; one-line errors for non-numbers, non-finite values and the wrong length."""
    try:
        values = [float(x) for x in text.split(",")] if text.strip() else []
    except ValueError:
        raise UnderactError(f"{flag} must be comma-separated numbers, e.g. {flag} 0.3,-0.2; got {text!r}") from None
    if len(values) != n:
        raise UnderactError(f"{flag} needs {n} comma-separated values for this model; got {len(values)}")
    if not all(math.isfinite(x) for x in values):
        raise UnderactError(f"{flag} values must be finite; got {text!r}")
    return np.array(values)


def _model_arg(p) -> None:
    p.add_argument("model", help=f"built-in name ({', '.join(BUILTINS)}) or a .urdf / .sdf / MJCF .xml file")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "equation",
        help="print M, Cv, tau_g, B (and damping) at one state",
        description="The terms of M(q) v̇ + C(q,v) v = τg(q) + B(q) u + damping(v) at (q, v). "
        "Joint damping is not part of Cv; it is printed separately as −b·v.",
    )
    _model_arg(p)
    p.add_argument("--backend", choices=BACKENDS, default="drake")
    p.add_argument("--q", default=None, help="positions, comma-separated (default: zeros)")
    p.add_argument("--v", default=None, help="velocities, comma-separated (default: zeros)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run_equation)

    p = subparsers.add_parser(
        "analyze",
        help="classify actuation, unactuated directions, controllability",
        description="Rank of f2 = M⁻¹B over sampled configurations (fully actuated iff the "
        "rank equals nv everywhere sampled), unactuated directions, and controllability of "
        "the linearisation at an equilibrium (default: upright for built-ins, q = 0 otherwise).",
    )
    _model_arg(p)
    p.add_argument("--backend", choices=BACKENDS, default="drake")
    p.add_argument("--equilibrium", default=None, help="q of the equilibrium, comma-separated")
    p.add_argument("--samples", type=int, default=100, help="random configurations to sample (default 100)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument(
        "--mat",
        default=None,
        metavar="FILE",
        help="write M, B, A_lin, B_lin at the equilibrium to a MATLAB .mat file (column-major)",
    )
    p.set_defaults(func=run_analyze)

    p = subparsers.add_parser(
        "crosscheck",
        help="compare Drake's and MuJoCo's terms for one model",
        description="Loads the model in Drake and MuJoCo, compares M, Cv, tau_g and B at random "
        "states; exit 1 when they disagree beyond tolerance.",
    )
    _model_arg(p)
    p.add_argument("--states", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--atol", type=float, default=1e-8)
    p.add_argument("--rtol", type=float, default=1e-6)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_crosscheck)


def run_equation(args) -> int:
    plant = load(args.model, args.backend)
    q = parse_vector(args.q, plant.nq, "--q") if args.q is not None else plant.q_rest.copy()
    v = parse_vector(args.v, plant.nv, "--v") if args.v is not None else np.zeros(plant.nv)
    t = plant.terms(q, v)
    out = {"nq": plant.nq, "nv": plant.nv, "nu": plant.nu, **t.as_dict(), "damping": plant.damping(v).tolist()}
    if args.json:
        print(json.dumps(out))
        return 0
    np.set_printoptions(precision=6, suppress=True)
    print(f"{plant.name} ({plant.backend}) at q = {q.tolist()}, v = {v.tolist()}")
    for key in ("M", "Cv", "tau_g", "B", "damping"):
        print(f"{key} =\n{np.asarray(out[key])}")
    return 0


def run_analyze(args) -> int:
    from underact.analysis import analyze

    if args.samples < 1:
        raise UnderactError("--samples must be at least 1")
    plant = load(args.model, args.backend)
    eq = parse_vector(args.equilibrium, plant.nq, "--equilibrium") if args.equilibrium is not None else None
    report = analyze(plant, eq, samples=args.samples, seed=args.seed)
    if args.mat:
        try:
            report.write_mat(args.mat)
        except OSError as exc:
            raise UnderactError(f"cannot write {args.mat}: {exc.strerror}") from None
    print(json.dumps(report.to_json()) if args.json else report.text())
    return 0


def run_crosscheck(args) -> int:
    from underact.crosscheck import crosscheck

    if args.states < 1:
        raise UnderactError("--states must be at least 1")
    drake, mujoco = load(args.model, "drake"), load(args.model, "mujoco")
    diffs = crosscheck(drake, mujoco, args.states, args.seed, args.atol, args.rtol)
    ok = all(d.ok for d in diffs)
    if args.json:
        print(
            json.dumps({"model": args.model, "states": args.states, "agree": ok, "terms": [d.__dict__ for d in diffs]})
        )
    else:
        print(f"{args.model}: Drake vs MuJoCo at {args.states} random states (atol {args.atol:g}, rtol {args.rtol:g})")
        print(f"  {'term':<6} {'max |Δ|':>11} {'max rel':>11}  verdict   worst state")
        for d in diffs:
            state = f"q={np.round(d.worst_q, 3).tolist()} v={np.round(d.worst_v, 3).tolist()}"
            print(f"  {d.term:<6} {d.max_abs:11.3e} {d.max_rel:11.3e}  {'agree' if d.ok else 'DISAGREE':<8}  {state}")
        print("verdict: " + ("the engines agree" if ok else "the engines DISAGREE; see the terms above"))
    return 0 if ok else 1
