"""`underact equation`, `underact analyze`, `underact crosscheck`: the manipulator equation and what it implies.

Every number these commands print is finite. `equation` and `analyze` refuse, in one line, a state where the terms
overflow; `crosscheck --json` writes null for a difference that is not a number (the verdict is then "disagree",
and a warning on stderr names the terms). JSON is written with `allow_nan=False`, so it never holds NaN or Infinity.
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np

from underact.cli import argtypes
from underact.description import ACTUATION_MODES, BASE_MODES
from underact.errors import UnderactError
from underact.plants import BACKENDS, BUILTINS, load

#: Upper bound of `analyze --samples` and `crosscheck --states` (about 2 s of Drake at the bound).
MAX_STATES = 100_000
#: The engines `crosscheck --engines` compares, and their names in its report (the closed form: built-ins only).
ENGINE_NAMES = {"drake": "Drake", "mujoco": "MuJoCo", "pinocchio": "Pinocchio", "analytic": "closed form"}
ENGINES = tuple(ENGINE_NAMES)


def sized(values: tuple[float, ...], n: int, flag: str) -> np.ndarray:
    """A vector flag's values (`underact.cli.argtypes.vector`) as an array, or a one-line error when this model
    needs another number of them."""
    if len(values) != n:
        raise UnderactError(f"{flag} needs {n} comma-separated values for this model; got {len(values)}")
    return np.array(values)


def _model_arg(p) -> None:
    p.add_argument("model", help=f"built-in name ({', '.join(BUILTINS)}) or a .urdf / .sdf / MJCF .xml file")
    p.add_argument(
        "--base",
        choices=BASE_MODES,
        default="auto",
        help="a file's base: as the file says (auto, the default), bolted to the world (fixed) or free (floating)",
    )
    model_flags(p)


def model_flags(p) -> None:
    """--actuation, --strict and --verbose: how a description file becomes a plant, and what is said about it."""
    p.add_argument(
        "--actuation",
        choices=ACTUATION_MODES,
        default="auto",
        help="a file's actuators: the declared ones, or every independent joint when the file declares none "
        "(auto, the default, warned); only the declared ones (declared); every independent joint (assumed)",
    )
    p.add_argument("--strict", action="store_true",
                   help="refuse an invalid inertia instead of repairing it (the same way on both engines)")
    p.add_argument("--verbose", action="store_true", help="show every message of the engines' parsers")


def refuse_motionless(plant) -> None:
    """A one-line refusal for a model in which nothing moves (no velocity to analyze)."""
    if plant.nv == 0:
        raise UnderactError(f"{plant.name}: nothing moves (no joints, and the base is bolted to the world); nothing "
                            "to analyze")


def say_load_warnings(plants: list, verbose: bool = False) -> None:
    """Every change a backend made to the model, one `underact: warning:` line each on stderr (a line two
    engines share is printed once), and the engines' parser messages: their count, or with `verbose` each."""
    seen: set[str] = set()
    for plant in plants:
        for warning in plant.warnings:
            if warning not in seen:
                seen.add(warning)
                prefix = "" if len(plants) == 1 or all(warning in p.warnings for p in plants) else f"{plant.backend}: "
                sys.stderr.write(f"underact: warning: {prefix}{warning}\n")
        messages = list(getattr(plant, "parser_messages", ()))
        if not messages:
            continue
        if verbose:
            for message in messages:
                sys.stderr.write(f"underact: {plant.backend}: {message}\n")
        else:
            sys.stderr.write(f"underact: warning: {plant.backend} reported {len(messages)} message(s) while "
                             "loading the model (--verbose shows them)\n")


def _print_json(obj: dict) -> None:
    """One JSON line; NaN and Infinity are refused (they are not JSON), never printed."""
    try:
        print(json.dumps(obj, allow_nan=False))
    except ValueError:
        raise UnderactError("the result holds non-finite numbers, which JSON cannot represent") from None


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "equation",
        help="print M, Cv, tau_g, B (and damping) at one state",
        description="The terms of M(q) v̇ + C(q,v) v = τg(q) + B(q) u + damping(v) at (q, v). "
        "Joint damping is not part of Cv; it is printed separately as −b·v.",
    )
    _model_arg(p)
    p.add_argument("--backend", choices=BACKENDS, default="drake")
    p.add_argument("--q", type=argtypes.vector, default=None, help="positions, comma-separated (default: zeros)")
    p.add_argument("--v", type=argtypes.vector, default=None, help="velocities, comma-separated (default: zeros)")
    p.add_argument("--C", dest="with_C", action="store_true",
                   help="also print the Coriolis matrix C (C v = Cv, Ṁ − 2C skew-symmetric)")
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
    p.add_argument("--equilibrium", type=argtypes.vector, default=None, help="q of the equilibrium, comma-separated")
    p.add_argument(
        "--samples",
        type=argtypes.count(MAX_STATES),
        default=100,
        help=f"random configurations to sample (default 100, at most {MAX_STATES}; a progress bar from 10000)",
    )
    p.add_argument("--seed", type=argtypes.seed, default=0)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument(
        "--mat",
        type=argtypes.output_file(".mat"),
        default=None,
        metavar="FILE",
        help="write M, B, A_lin, B_lin at the equilibrium to exactly FILE, which must end in .mat "
        "(MATLAB's column-major layout; written atomically)",
    )
    p.set_defaults(func=run_analyze)

    p = subparsers.add_parser(
        "crosscheck",
        help="compare the engines' terms for one model (Drake and MuJoCo by default)",
        description="Loads the model in each engine (Drake and MuJoCo by default; --engines adds Pinocchio), "
        "compares M, Cv, tau_g and B (and C with --C) at random states, every pair of engines; exit 1 when "
        "any pair disagrees beyond tolerance.",
    )
    _model_arg(p)
    p.add_argument("--engines", type=argtypes.names(ENGINES, "engine", 2), default="drake,mujoco",
                   help=f"two or more of {','.join(ENGINES)}, comma-separated (default drake,mujoco; analytic, the "
                   "closed form, for the built-in systems)")
    p.add_argument("--C", dest="with_C", action="store_true", help="compare the Coriolis matrices C too")
    p.add_argument("--states", type=argtypes.count(MAX_STATES), default=200,
                   help=f"random states (default 200, at most {MAX_STATES})")
    p.add_argument("--seed", type=argtypes.seed, default=0)
    p.add_argument("--atol", type=argtypes.tolerance,
                   default=1e-8, help="absolute tolerance, finite and >= 0 (default 1e-8)")
    p.add_argument("--rtol", type=argtypes.tolerance,
                   default=1e-6, help="relative tolerance, finite and >= 0 (default 1e-6)")
    p.add_argument("--json", action="store_true", help="print JSON; a difference that is not a number is null")
    p.set_defaults(func=run_crosscheck)


def run_equation(args) -> int:
    plant = load(args.model, args.backend, base=args.base, actuation=args.actuation, strict=args.strict)
    say_load_warnings([plant], args.verbose)
    q = sized(args.q, plant.nq, "--q") if args.q is not None else plant.q_rest.copy()
    v = sized(args.v, plant.nv, "--v") if args.v is not None else np.zeros(plant.nv)
    with np.errstate(all="ignore"):  # overflow is refused below, in one line, not warned about
        t = plant.terms(q, v)
        damping = plant.damping(v)
        out = {"nq": plant.nq, "nv": plant.nv, "nu": plant.nu, **t.as_dict(args.with_C), "damping": damping.tolist()}
    keys = ("M", "Cv", "tau_g", "B", "damping") + (("C",) if args.with_C else ())
    overflowed = [key for key in keys if not np.all(np.isfinite(out[key]))]
    if overflowed:
        raise UnderactError(
            f"{', '.join(overflowed)} not finite at q = {q.tolist()}, v = {v.tolist()}: the terms overflow at this "
            "state; use smaller --q / --v"
        )
    if args.json:
        _print_json(out)
        return 0
    np.set_printoptions(precision=6, suppress=True)
    print(f"{plant.name} ({plant.backend}) at q = {q.tolist()}, v = {v.tolist()}")
    for key in keys:
        print(f"{key} =\n{np.asarray(out[key])}")
    return 0


def run_analyze(args) -> int:
    from underact.analysis import analyze
    from underact.plants.dependent import reduce_dependent

    plant = load(args.model, args.backend, base=args.base, actuation=args.actuation, strict=args.strict)
    plant = reduce_dependent(plant, args.model, args.base, args.actuation)
    say_load_warnings([plant], args.verbose)
    refuse_motionless(plant)
    eq = sized(args.equilibrium, plant.nq, "--equilibrium") if args.equilibrium is not None else None
    report = analyze(plant, eq, samples=args.samples, seed=args.seed, progress=True)
    if args.mat is not None:
        try:
            report.write_mat(args.mat)
        except OSError as exc:
            raise UnderactError(f"cannot write {args.mat}: {exc.strerror or exc}") from None
        arrays = "M, B, q_eq" + (", A_lin, B_lin" if report.A_lin is not None else "")
        print(f"underact: wrote {arrays} at the equilibrium to {args.mat} (MATLAB, column-major)", file=sys.stderr)
    if args.json:
        _print_json(report.to_json())
    else:
        print(report.text())
    return 0


def run_crosscheck(args) -> int:
    from underact.crosscheck import crosscheck_engines, description_actuators

    engines = args.engines
    plants = {engine: load(args.model, engine, base=args.base, actuation=args.actuation, strict=args.strict)
              for engine in engines}
    say_load_warnings(list(plants.values()), args.verbose)
    actuators = description_actuators(args.model, args.base, args.actuation)  # None for a built-in
    pairs = crosscheck_engines(plants, actuators, states=args.states, seed=args.seed, atol=args.atol, rtol=args.rtol,
                               with_C=args.with_C)
    ok = all(d.ok for _, _, diffs in pairs for d in diffs)
    if args.json:
        rows = []
        for a, b, diffs in pairs:
            terms = [{k: _finite_or_none(x) for k, x in d.__dict__.items()} for d in diffs]
            not_numbers = [d.term for d in diffs if not (math.isfinite(d.max_abs) and math.isfinite(d.max_rel))]
            if not_numbers:
                sys.stderr.write(f"underact: warning: {a} vs {b}: {', '.join(not_numbers)}: the difference is not a "
                                 "number (null)\n")
            rows.append({"engines": [a, b], "agree": all(d.ok for d in diffs), "terms": terms})
        _print_json({"model": args.model, "states": args.states, "agree": ok, "engines": engines,
                     "terms": rows[0]["terms"], "pairs": rows})
    else:
        for a, b, diffs in pairs:
            print(f"{args.model}: {ENGINE_NAMES[a]} vs {ENGINE_NAMES[b]} at {args.states} random states "
                  f"(atol {args.atol:g}, rtol {args.rtol:g})")
            print(f"  {'term':<6} {'max |Δ|':>11} {'max rel':>11}  verdict   worst state")
            for d in diffs:
                state = d.note or f"q={np.round(d.worst_q, 3).tolist()} v={np.round(d.worst_v, 3).tolist()}"
                verdict = "agree" if d.ok else "DISAGREE"
                print(f"  {d.term:<6} {d.max_abs:11.3e} {d.max_rel:11.3e}  {verdict:<8}  {state}")
        print("verdict: " + ("the engines agree" if ok else "the engines DISAGREE; see the terms above"))
    return 0 if ok else 1


def _finite_or_none(x):
    """A JSON-safe value: non-finite floats become None (null)."""
    return None if isinstance(x, float) and not math.isfinite(x) else x
