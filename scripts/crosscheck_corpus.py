"""Corpus check: every robot description under some folders, loaded on Drake and on MuJoCo, terms compared.

For each URDF, SDF and MJCF file (recognised by its root element) under the folders, recursively: does Drake's
backend load it, does MuJoCo's (and if not, why), and do the two engines' terms agree at random states in the one
floating-base convention (`underact crosscheck` at its default tolerances)? Prints one row per file and a summary;
`--json FILE` also writes the rows. Runs offline on what the tests can reach:

    python scripts/crosscheck_corpus.py --offline-corpus          # drake wheel examples, Gymnasium MJCF,
                                                                   # example-robot-data (if installed)
    python scripts/crosscheck_corpus.py path/to/robots --states 50
    python scripts/crosscheck_corpus.py --offline-corpus --engines drake,mujoco,pinocchio   # every pair of three

Each file runs in a child process with a timeout (an engine that hangs or crashes on one file costs one row).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from underact.errors import one_line

SUFFIXES = (".urdf", ".sdf", ".xml", ".mjcf")
#: The longest reason a table cell holds.
CELL = 160


def offline_corpus() -> list[Path]:
    """Folders of descriptions that ship with installed packages (no download)."""
    import importlib.metadata

    import gymnasium

    from underact.plants.drake import drake_examples_dir

    folders = [drake_examples_dir(), Path(gymnasium.__file__).parent / "envs" / "mujoco" / "assets"]
    try:
        dist = importlib.metadata.distribution("example-robot-data")
        folders.append(Path(dist.locate_file("cmeel.prefix/share/example-robot-data/robots")))
    except importlib.metadata.PackageNotFoundError:
        pass
    try:  # pybullet's robots (pip install pybullet: its wheel ships them, no download at run time)
        import pybullet_data

        folders.append(Path(pybullet_data.getDataPath()))
    except ImportError:
        pass
    return folders


def description_files(folders: list[Path]) -> list[Path]:
    """Files under the folders whose root element is <robot>, <sdf> or <mujoco> (xacro templates excluded)."""
    from underact.description import safe_parse

    found = []
    for folder in folders:
        candidates = [folder] if folder.is_file() else sorted(folder.rglob("*"))
        for path in candidates:
            if path.suffix.lower() not in SUFFIXES or not path.is_file() or ".xacro" in path.name:
                continue
            try:
                tag = safe_parse(path).tag
            except (ValueError, OSError):  # DescriptionError is a ValueError
                continue
            if tag in ("robot", "sdf", "mujoco"):
                found.append(path)
    return found


def check(
    path: str, states: int, seed: int, atol: float, rtol: float, engines=("drake", "mujoco"), with_C: bool = False
) -> dict:
    """One row: loaded by each engine (or why not) and the crosscheck verdict (every pair of the engines that
    loaded it; `pairs` has each pair's verdict when there are more than two engines)."""
    import warnings

    from underact import load
    from underact.crosscheck import crosscheck, crosscheck_engines
    from underact.errors import UnderactError

    warnings.simplefilter("ignore")
    row = {"path": path, "drake": None, "mujoco": None, "verdict": None, "worst": None}
    plants = {}
    for backend in engines:
        try:
            plants[backend] = load(path, backend)
            row[backend] = "ok"
        except BaseException as exc:  # noqa: BLE001 - a row per file, whatever the engine raised
            row[backend] = one_line(exc, CELL) if isinstance(exc, UnderactError) else f"internal: {_internal(exc)}"
    if "drake" in plants and plants["drake"].nv == 0:  # e.g. a xacro stub: nothing moves, nothing to compare
        for backend in engines:
            row[backend] = "empty"
        return row
    row["verdicts"] = verdicts(path, plants)
    if engines != ("drake", "mujoco") or with_C:
        try:
            pairs = crosscheck_engines(plants, states=states, seed=seed, atol=atol, rtol=rtol, with_C=with_C)
        except BaseException as exc:  # noqa: BLE001
            row["verdict"], row["worst"] = "error", one_line(exc, CELL)
            return row
        row["pairs"] = {f"{a}-{b}": "agree" if all(d.ok for d in diffs) else "disagree" for a, b, diffs in pairs}
        bad = [(a, b, d) for a, b, diffs in pairs for d in diffs if not d.ok]
        if pairs:
            row["verdict"] = "disagree" if bad else "agree"
            worst = max(bad, key=lambda x: x[2].max_rel) if bad else None
            row["worst"] = (f"{worst[0]}-{worst[1]} {worst[2].term} (|Δ| {worst[2].max_abs:.2e}, rel "
                            f"{worst[2].max_rel:.2e})" if worst else
                            f"max rel {max(d.max_rel for _, _, ds in pairs for d in ds):.1e}")
        return row
    if len(plants) == 2:
        try:
            diffs = crosscheck(plants["drake"], plants["mujoco"], states, seed, atol, rtol)
        except BaseException as exc:  # noqa: BLE001
            row["verdict"], row["worst"] = "error", one_line(exc, CELL)
            return row
        bad = [d for d in diffs if not d.ok]
        row["verdict"] = "agree" if not bad else "disagree"
        if bad:
            worst = max(bad, key=lambda d: d.max_rel)
            row["worst"] = f"{worst.term} (|Δ| {worst.max_abs:.2e}, rel {worst.max_rel:.2e})"
        else:
            row["worst"] = f"max rel {max(d.max_rel for d in diffs):.1e}"
    return row


def verdicts(path: str, plants: dict) -> dict[str, str]:
    """Class and degree from `classify` and from `analyze` on each loaded engine (dependent joints reduced, as
    the commands do): one verdict per robot is what issue 24 asks."""
    from underact.analysis import analyze
    from underact.description import parse_description
    from underact.errors import UnderactError
    from underact.plants.dependent import reduce_dependent

    out = {}
    try:
        desc = parse_description(path)
        out["classify"] = f"{desc.cls} {desc.degree}"
    except UnderactError as exc:
        out["classify"] = f"refused: {one_line(exc, CELL)}"
    for backend, plant in plants.items():
        try:
            report = analyze(reduce_dependent(plant, path), samples=3)
            out[backend] = f"{report.cls} {report.degree}"
        except UnderactError as exc:
            out[backend] = f"refused: {one_line(exc, CELL)}"
        except Exception as exc:  # noqa: BLE001 - counted as an internal error
            out[backend] = f"internal: {_internal(exc)}"
    return out


def _internal(exc: BaseException) -> str:
    """An exception that is not a one-line refusal (a defect: the corpus check counts these as tracebacks)."""
    return f"{type(exc).__name__}: {one_line(exc, CELL)}"


def _run(job):
    return check(*job)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", type=Path, help="folders (searched recursively) or files")
    parser.add_argument("--offline-corpus", action="store_true", help="add the descriptions installed packages ship")
    parser.add_argument("--states", type=int, default=20, help="random states per crosscheck (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--atol", type=float, default=1e-8)
    parser.add_argument("--rtol", type=float, default=1e-6)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per file (default 120)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows as JSON to this file")
    parser.add_argument("--C", dest="with_C", action="store_true", help="compare the Coriolis matrices C too")
    parser.add_argument("--engines", default="drake,mujoco",
                        help="engines to load and compare pairwise (default drake,mujoco; add pinocchio)")
    args = parser.parse_args(argv)
    engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
    if len(set(engines)) != len(engines) or len(engines) < 2 or not set(engines) <= {"drake", "mujoco", "pinocchio"}:
        parser.error(f"--engines: two or more different ones of drake, mujoco, pinocchio; got {args.engines!r}")
    folders = list(args.folders) + (offline_corpus() if args.offline_corpus else [])
    if not folders:
        parser.error("give folders or --offline-corpus")
    files = description_files(folders)
    start = time.perf_counter()
    rows = []
    ctx = mp.get_context("spawn")
    with ctx.Pool(args.jobs, maxtasksperchild=8) as pool:
        pending = [
            (f, pool.apply_async(_run, ((str(f), args.states, args.seed, args.atol, args.rtol, engines, args.with_C),)))
            for f in files
        ]
        for path, result in tqdm(pending, desc="crosscheck", file=sys.stderr, unit="file"):
            try:
                rows.append(result.get(timeout=args.timeout))
            except mp.TimeoutError:
                rows.append({"path": str(path), "drake": "timeout", "mujoco": "timeout", "verdict": None,
                             "worst": None})
    elapsed = time.perf_counter() - start
    print_table(rows, [str(f) for f in folders])
    print_summary(rows, [str(f) for f in folders])
    if engines != ("drake", "mujoco") or args.with_C:
        print_pairs(rows, engines)
    print(f"\n{len(rows)} files in {elapsed:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


def _short(path: str, roots: list[str]) -> str:
    for root in roots:
        if path.startswith(root):
            return Path(root).name + path[len(root) :]
    return path


def print_table(rows: list[dict], roots: list[str]) -> None:
    print(f"{'file':<70} {'Drake':<6} {'MuJoCo':<40} verdict")
    for r in rows:
        mj = r["mujoco"] if r["mujoco"] == "ok" else f"no: {r['mujoco']}"
        verdict = f"{r['verdict'] or '-'}  {r['worst'] or ''}"
        print(f"{_short(r['path'], roots)[-70:]:<70} {'ok' if r['drake'] == 'ok' else 'no':<6} {mj[:40]:<40} {verdict}")

def print_summary(rows: list[dict], roots: list[str]) -> None:
    """Counts per source folder and format; files Drake loads as empty (no joints) are left out of the shares."""
    counts = Counter()
    for r in rows:
        source = next((Path(root).name for root in roots if r["path"].startswith(root)), "")
        key = (source, Path(r["path"]).suffix.lower().lstrip("."))
        counts[key + ("files",)] += 1
        counts[key + ("empty",)] += r["drake"] == "empty"
        counts[key + ("drake",)] += r["drake"] == "ok"
        counts[key + ("both",)] += r["drake"] == "ok" and r["mujoco"] == "ok"
        counts[key + ("agree",)] += r["verdict"] == "agree"
    print("\n| source | format | files | Drake loads | MuJoCo loads too | engines agree | agree / Drake loads |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for key in sorted({k[:2] for k in counts}):
        d, both, agree = counts[key + ("drake",)], counts[key + ("both",)], counts[key + ("agree",)]
        share = f"{100 * agree / d:.0f} %" if d else "-"
        empty = f" ({counts[key + ('empty',)]} empty)" if counts[key + ("empty",)] else ""
        print(f"| {key[0]} | {key[1]} | {counts[key + ('files',)]}{empty} | {d} | {both} | {agree} | {share} |")
    urdf = [r for r in rows if r["path"].lower().endswith(".urdf") and r["drake"] == "ok"]
    agree = sum(r["verdict"] == "agree" for r in urdf)
    if urdf:
        print(f"\nURDF files Drake loads: {len(urdf)}; the engines agree on {agree} ({100 * agree / len(urdf):.1f} %)")
    judged = [r for r in rows if r.get("verdicts") and not any(v.startswith("refused") for v in r["verdicts"].values())]
    one = [r for r in judged if len(set(r["verdicts"].values())) == 1]
    print(f"one class and degree from classify and analyze on every engine that loads it: {len(one)} of {len(judged)}")
    for r in judged:
        if r not in one:
            print(f"  {r['path']}: {r['verdicts']}")
    internal = [r for r in rows if any(str(r.get(k) or "").startswith("internal:") for k in ("drake", "mujoco"))
                or r["verdict"] == "error" or any(v.startswith("internal") for v in (r.get("verdicts") or {}).values())]
    print(f"internal errors (tracebacks): {len(internal)}")
    for r in internal:
        print(f"  {r['path']}: {r['drake']} | {r['mujoco']} | {r['worst']}")
    reasons = Counter(r["mujoco"] for r in rows if r["drake"] == "ok" and r["mujoco"] != "ok")
    if reasons:
        print("\nMuJoCo refusals among files Drake loads:")
        for reason, count in reasons.most_common():
            print(f"  {count:3d}  {reason}")


def print_pairs(rows: list[dict], engines: tuple[str, ...]) -> None:
    """Per pair of engines: files both load and how many agree; then each engine's refusals among files Drake loads."""
    pairs = Counter((pair, verdict) for r in rows for pair, verdict in r.get("pairs", {}).items())
    print("\n| engines | both load | agree |")
    print("|---|---:|---:|")
    for pair in sorted({p for p, _ in pairs}):
        both = pairs[(pair, "agree")] + pairs[(pair, "disagree")]
        print(f"| {pair} | {both} | {pairs[(pair, 'agree')]} |")
    for engine in engines:
        if engine == "drake":
            continue
        refused = [r for r in rows if r["drake"] == "ok" and r.get(engine) not in ("ok", "empty")]
        if refused:
            print(f"\n{engine} refuses {len(refused)} of the files Drake loads:")
            for r in refused:
                print(f"  {Path(r['path']).name}: {r[engine]}")


if __name__ == "__main__":
    sys.exit(main())
