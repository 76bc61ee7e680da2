"""Per-state cost of `plant.terms(q, v)` on each backend, against baselines measured in the same run.

Two sections. The acrobot: a Python loop over Drake (one `terms` call per state, what a user writes first) against
each backend looped and batched. The Franka Panda (example-robot-data, fixed base): Pinocchio's own per-state
Python loop (crba, nonLinearEffects, computeGeneralizedGravity into arrays: M, Cv, τg) against a batch of
`plant.terms(q, v)` on the pinocchio, MuJoCo and Drake backends. Every repeat times every case once, in turn, so a
ratio compares timings taken moments apart; the table gives the median and the range over repeats.

Usage: python scripts/bench_terms.py [--states 2000] [--repeats 7] [--json docs/benchmarks/terms.json]
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from underact import load
from underact.errors import UnderactError

ROOT = Path(__file__).resolve().parents[1]


def panda_path() -> Path:
    dist = importlib.metadata.distribution("example-robot-data")
    return Path(dist.locate_file("cmeel.prefix/share/example-robot-data/robots/panda_description/urdf/panda.urdf"))


def seconds(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def measure(cases: dict, repeats: int) -> dict[str, np.ndarray]:
    """µs per state of each case, one sample per repeat; the cases take turns within a repeat."""
    for fn, _ in cases.values():  # one untimed call each: caches, lazily built engine objects
        fn()
    samples = {name: [] for name in cases}
    for _ in range(repeats):
        for name, (fn, n) in cases.items():
            samples[name].append(seconds(fn) / n * 1e6)
    return {name: np.array(s) for name, s in samples.items()}


def pinocchio_loop(model, data, q: np.ndarray, v: np.ndarray):
    """What a Pinocchio user writes: M, Cv and τg of each state, one state at a time."""
    import pinocchio as pin

    n, nv = len(q), model.nv
    M, Cv, tau_g = np.empty((n, nv, nv)), np.empty((n, nv)), np.empty((n, nv))
    for i in range(n):
        M[i] = pin.crba(model, data, q[i])
        g = pin.computeGeneralizedGravity(model, data, q[i])
        Cv[i] = pin.nonLinearEffects(model, data, q[i], v[i]) - g
        tau_g[i] = -g
    return M, Cv, tau_g


def acrobot_section(states: int, repeats: int) -> dict:
    rng = np.random.default_rng(0)
    plants = {b: load("acrobot", b) for b in ("drake", "mujoco", "pinocchio", "analytic")}
    q = plants["analytic"].random_q(rng, states)
    v = rng.normal(size=q.shape)
    loop = max(1, states // 10)  # Python loops are slow; a tenth of the states is plenty for a per-state figure

    def looped(plant):
        return lambda: [plant.terms(q[i], v[i]) for i in range(loop)], loop

    cases = {"drake, Python loop (baseline)": looped(plants["drake"])}
    for backend in ("drake", "mujoco", "pinocchio"):
        cases[f"{backend}, batched call"] = (lambda p=plants[backend]: p.terms(q, v), states)
    cases["analytic, Python loop"] = looped(plants["analytic"])
    cases["analytic, batched (numpy)"] = (lambda: plants["analytic"].terms(q, v), states)
    return measure(cases, repeats)


def panda_section(states: int, repeats: int) -> dict:
    import pinocchio as pin

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plants = {b: load(panda_path(), b, base="fixed") for b in ("pinocchio", "mujoco", "drake")}
    model = pin.buildModelFromUrdf(str(panda_path()))
    data = model.createData()
    reference = plants["pinocchio"]
    if [model.names[j] for j in range(1, model.njoints)] != reference.velocity_names:
        raise UnderactError("the Panda's joints are not in Pinocchio's order; the baseline would compare other states")
    rng = np.random.default_rng(0)
    q = reference.random_q(rng, states)
    v = rng.uniform(-2.0, 2.0, size=q.shape)
    M, Cv, tau_g = pinocchio_loop(model, data, q, v)  # the baseline computes what the backends do
    t = reference.terms(q, v)
    M = np.triu(M) + np.swapaxes(np.triu(M, 1), 1, 2)
    for name, a, b in (("M", M, t.M), ("Cv", Cv, t.Cv), ("tau_g", tau_g, t.tau_g)):
        if not np.allclose(a, b, atol=1e-9):
            raise UnderactError(f"the baseline's {name} differs from the pinocchio backend's")
    cases = {"Pinocchio, per-state Python loop (baseline)": (lambda: pinocchio_loop(model, data, q, v), states)}
    for backend in ("pinocchio", "mujoco", "drake"):
        cases[f"{backend} backend, batched plant.terms"] = (lambda p=plants[backend]: p.terms(q, v), states)
    return measure(cases, repeats)


def table(samples: dict[str, np.ndarray], baseline: str) -> list[list[str]]:
    """Rows: case, median µs/state (range), median speed-up (range), each ratio from one repeat."""
    base = samples[baseline]
    rows = []
    for name, us in samples.items():
        ratio = base / us
        rows.append([
            name,
            f"{np.median(us):.2f} ({us.min():.2f}–{us.max():.2f})",
            f"{np.median(ratio):.2f}× ({ratio.min():.2f}–{ratio.max():.2f})",
        ])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=2000, help="batch size (default 2000)")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats of every case (default 7)")
    parser.add_argument("--json", type=Path, default=None, help="write the benchmark record to this file")
    args = parser.parse_args(argv)
    if not 10 <= args.states <= 1_000_000 or not 1 <= args.repeats <= 1000:
        print("bench_terms: --states must be in [10, 1000000] and --repeats in [1, 1000]", file=sys.stderr)
        return 2
    try:
        import pinocchio  # noqa: F401 - the baseline and the backend need it

        panda_path()
    except (ImportError, importlib.metadata.PackageNotFoundError):
        print("bench_terms: needs Pinocchio and example-robot-data: pip install -e '.[test]'", file=sys.stderr)
        return 2
    if args.json is not None:
        from underact.files import output_problem

        problem = output_problem(args.json)
        if problem:
            print(f"bench_terms: {problem}", file=sys.stderr)
            return 2
    acrobot = acrobot_section(args.states, args.repeats)
    panda = panda_section(args.states, args.repeats)
    tables = [
        ("Acrobot, {n} random states, {r} repeats: median (range).", table(acrobot, "drake, Python loop (baseline)")),
        ("Franka Panda (example-robot-data, fixed base, 9 DoF), {n} random states, {r} repeats: median (range).",
         table(panda, "Pinocchio, per-state Python loop (baseline)")),
    ]
    for caption, rows in tables:
        print("\n" + caption.format(n=args.states, r=args.repeats))
        print(f"{'case':<46} {'µs/state':>24} {'speed-up':>22}")
        for row in rows:
            print(f"{row[0]:<46} {row[1]:>24} {row[2]:>22}")
    if args.json is not None:
        write_record(args, tables, notes(panda))
    return 0


def notes(panda: dict[str, np.ndarray]) -> list[str]:
    """What the Panda's ratios say, from this run's samples."""
    base = panda["Pinocchio, per-state Python loop (baseline)"]

    def ratio(backend: str) -> str:
        r = base / panda[f"{backend} backend, batched plant.terms"]
        return f"{np.median(r):.2f}× ({r.min():.2f}–{r.max():.2f})"

    return [
        f"Against Pinocchio's own per-state loop on the Panda (the same M, Cv and τg), a batch of `plant.terms` ran "
        f"at {ratio('pinocchio')} on the pinocchio backend, {ratio('mujoco')} on MuJoCo and {ratio('drake')} on "
        "Drake (median and range of the per-repeat ratios). Issue 26 asks ≥ 1.0× on the fastest backend and ≥ 0.5× "
        "on Drake.",
        "The pinocchio backend makes one Python call per state (`crba`); RNEA for C v and τg runs over the whole batch "
        "in one C++ call each (`rneaInParallel` on one thread), where the loop makes three calls per state.",
        "Drake evaluates the same three algorithms per state (`CalcMassMatrix`, `CalcBiasTerm`, "
        "`CalcGravityGeneralizedForces`, after one `SetPositionsAndVelocities`) and its C++ takes about three times "
        "Pinocchio's time for them; the Python around them is already one call per term.",
        "The engines pay a per-state round trip; the closed-form batch is one numpy expression over all states, which "
        "is why the environments and the learning code use it by default.",
        "The machine was shared with other jobs while this ran; the ranges show how much that moved the timings.",
    ]


def write_record(args, tables, notes: list[str]) -> None:
    import mujoco
    import pinocchio

    from underact.files import atomic_write

    old = json.loads(args.json.read_text(encoding="utf-8")) if args.json.exists() else {}
    record = {
        "order": old.get("order", 1),
        "title": "terms() per state",
        "summary": (
            "Time to compute M, Cv, τg and B for one state, looped in Python or batched, on each backend: the acrobot "
            "against a Python loop over Drake, and the Franka Panda against Pinocchio's own per-state Python loop, "
            "each measured in the same run."
        ),
        "machine": old.get("machine", platform.processor() or platform.machine()),
        "date": datetime.date.today().isoformat(),
        "software": (f"drake {importlib.metadata.version('drake')}, mujoco {mujoco.__version__}, pin "
                     f"{pinocchio.__version__}, Python {platform.python_version()}"),
        "command": f"python scripts/bench_terms.py --states {args.states} --repeats {args.repeats}",
        "tables": [
            {"caption": c.format(n=args.states, r=args.repeats), "columns": ["case", "µs/state", "speed-up"],
             "rows": rows}
            for c, rows in tables
        ],
        "notes": notes,
        "guide": old.get("guide", {"title": "Plants guide", "page": "guides/plants.md"}),
    }
    atomic_write(args.json, (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


if __name__ == "__main__":
    sys.exit(main())
