"""Benchmark `underact classify` on many description files against the engines' own parsers.

Generates N files (URDF chains with transmissions, SDF chains, MJCF chains; 2 to 12 links; seeded), then times
in one run: (1) `underact classify --json` end to end as a subprocess (imports included), (2) our reader per
file in-process, (3) baselines on the same files: Drake's Parser + Finalize for URDF/SDF, MuJoCo's
`MjModel.from_xml_path` for MJCF, and a bare `xml.etree` parse (the floor for any XML reader). Prints seconds
and ratios (baseline time / ours; > 1 means ours is faster).

    python scripts/bench_classify.py --files 1000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from tqdm import tqdm

from underact.description import parse_description
from underact.description.generate import mjcf_chain, sdf_chain, urdf_chain


def generate(folder: Path, count: int, seed: int) -> list[Path]:
    """`count` files, a third of each format, with random sizes and actuated subsets."""
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        n = int(rng.integers(2, 13))
        actuated = [k + 1 for k in np.flatnonzero(rng.random(n) < 0.6)]
        kind = ("urdf", "sdf", "xml")[i % 3]
        if kind == "urdf":
            text = urdf_chain(n, actuated, fixed_base=bool(rng.random() < 0.5))
        elif kind == "sdf":
            text = sdf_chain(n, actuated, fixed_base=bool(rng.random() < 0.5))
        else:
            text = mjcf_chain(n, actuated, floating=bool(rng.random() < 0.5))
        path = folder / f"robot{i:05d}.{kind}"
        path.write_text(text)
        paths.append(path)
    return paths


def timed(label: str, paths: list[Path], work) -> float:
    start = time.perf_counter()
    for path in tqdm(paths, desc=label, file=sys.stderr, leave=False):
        work(path)
    return time.perf_counter() - start


def drake_parse(path: Path) -> None:
    from pydrake.multibody.parsing import Parser
    from pydrake.multibody.plant import MultibodyPlant

    plant = MultibodyPlant(0.0)
    Parser(plant).AddModels(str(path))
    plant.Finalize()


def mujoco_compile(path: Path) -> None:
    import mujoco

    mujoco.MjModel.from_xml_path(str(path))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="number of generated files (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed for sizes and actuated subsets")
    args = parser.parse_args()
    if args.files < 3:
        parser.error("--files must be at least 3 (one per format)")

    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(Path(tmp), args.files, args.seed)
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "underact.cli", "classify", "--json", *map(str, paths)],
            capture_output=True,
            text=True,
        )
        cli = time.perf_counter() - start
        records = [json.loads(line) for line in result.stdout.splitlines()]
        assert result.returncode == 0 and len(records) == len(paths), result.stderr[-500:]

        engine_paths = [p for p in paths if p.suffix != ".xml"]
        mjcf_paths = [p for p in paths if p.suffix == ".xml"]
        drake_parse(engine_paths[0])  # import outside the timing
        mujoco_compile(mjcf_paths[0])
        ours_drake_set = timed("ours urdf/sdf", engine_paths, parse_description)
        ours_mjcf_set = timed("ours mjcf", mjcf_paths, parse_description)
        drake = timed("drake parse", engine_paths, drake_parse)
        mujoco = timed("mujoco compile", mjcf_paths, mujoco_compile)
        bare = timed("xml.etree", paths, ET.parse)

    print(f"files: {len(paths)} ({len(engine_paths)} URDF/SDF, {len(mjcf_paths)} MJCF), 2-12 links, seed {args.seed}")
    print(f"underact classify --json, end to end (subprocess, imports included): {cli:7.2f} s")
    print(f"  in-process reader, all files: {ours_drake_set + ours_mjcf_set:7.2f} s")
    ours = ours_drake_set + ours_mjcf_set
    print(f"URDF/SDF: ours {ours_drake_set:6.2f} s   Drake Parser+Finalize {drake:6.2f} s   ", end="")
    print(f"ratio {drake / ours_drake_set:5.1f}x")
    print(f"MJCF:     ours {ours_mjcf_set:6.2f} s   MuJoCo from_xml_path  {mujoco:6.2f} s   ", end="")
    print(f"ratio {mujoco / ours_mjcf_set:5.2f}x  (ours compiles with MuJoCo too)")
    print(f"floor:    xml.etree.parse of every file {bare:6.2f} s   ours / floor {ours / bare:5.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
