"""A seeded fuzzer for the `underact` command line: hostile arguments, files and run folders for every command.

Each case is one command line (`demo`, `equation`, `analyze`, `crosscheck`, `classify`, `simulate`, `train`,
`evaluate`), built from the pair (seed, case index) alone, so any case reproduces without the others. Values are
hostile (NaN, inf, 1e308, negatives, huge integers, empty, unicode, wrong lengths, a leading '-') or cheap and
valid; files are hostile (empty, truncated XML, binary, entity bombs, external entities, directories, FIFOs, a
symlink loop, huge or zero inertias, deep nesting) or small valid chains from `underact.description.generate`;
run folders for `evaluate` are a real tiny run and broken copies of it. Work is kept cheap (a few states,
0.2 s simulated, one generation of four), so a case that runs past --timeout is reported as a hang.

A case fails when its exit code is not 0, 1 or 2 (a signal counts), its stderr holds "Traceback" or the CLI's
last-resort "underact: internal error" line, or it runs past --timeout (then its whole process group is
killed). Cases run in children forked from this process after it has imported the toolkit (fast), or with
--exec as fresh `python -m underact.cli` processes (what a user runs). Each child runs in WORKDIR with stdin
from /dev/null, 4 GiB more address space than this process and files of at most 256 MiB. Failures go to
WORKDIR/failures.txt as shell lines; the exit status is 1 if any.

    python scripts/fuzz_cli.py --cases 2000 --seed 0 --jobs 2
"""

from __future__ import annotations

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # before numpy or torch load
    os.environ.setdefault(_var, "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import collections  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

from underact.description.generate import billion_laughs, external_entity, mjcf_chain, sdf_chain, urdf_chain  # noqa: E402

COMMANDS = ("demo", "equation", "analyze", "crosscheck", "classify", "simulate", "train", "evaluate")
PREIMPORTS = (
    "matplotlib.pyplot", "scipy.stats", "PIL.Image", "safetensors.numpy", "mujoco", "pydrake.multibody.parsing",
    "pydrake.multibody.plant", "pydrake.systems.analysis", "gymnasium", "underact.envs", "underact.agents.trainer",
    "underact.agents.render", "underact.simulate", "underact.control", "underact.analysis", "underact.crosscheck",
)  # fmt: skip
EXTRA_ADDRESS_SPACE = 4 << 30
MAX_FILE_BYTES = 256 << 20

# Hostile scalars: numbers argparse or float() accept but no command should act on, and text that is no number.
HOSTILE = (
    "nan NaN -nan inf -inf Infinity 1e308 -1e308 1e999 1e-320 -1 -0 0 -5 99999999999999999999 18446744073709551617 "
    "1,2 0x10 1_000 3.5 1e8 ½ ٣ abc -- - None true ☃ ℵ0 -0.3,0.2 １２ 1e5 2147483648"
).split() + ["9" * 400, "", " ", "\t"]
WORDS = ["", " ", "-", "--", "-x", "--help", "☃", "акробот", "a" * 300, "../" * 20 + "etc/passwd", "/dev/zero"]
BUILTINS = ["acrobot", "cartpole", "pendulum"]


def _vector(rng: random.Random, n: int) -> str:
    """Comma-separated values: mostly n of them (the right length for the built-ins), some hostile."""
    roll = rng.random()
    if roll < 0.45:
        return ",".join(f"{rng.uniform(-3, 3):.3g}" for _ in range(n))
    if roll < 0.85:
        length = rng.choice([n, n, 0, 1, n + 1, 3 * n, 1000])
        return ",".join(rng.choice(HOSTILE[:25] + [f"{rng.uniform(-3, 3):.2f}"]) for _ in range(length))
    return rng.choice(["", ",", ",,", "1,,2", " 1 , 2 ", "-0.3,0.2", "nan,0", "1e308,1e308", "0,0,0,0,0,0,0,0"])


def _value(rng: random.Random, cheap: list[str]) -> str:
    """A cheap valid value most of the time, a hostile one otherwise."""
    return rng.choice(cheap) if rng.random() < 0.55 else rng.choice(HOSTILE + WORDS)


@dataclass
class Fixtures:
    """Paths (relative to the work folder) of the generated files and run folders."""

    models: list[str]
    descriptions: list[str]
    runs: list[str]


def _write(folder: Path, name: str, data: str | bytes) -> str:
    path = folder / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return name


def make_fixtures(folder: Path, seed: int) -> Fixtures:
    """Hostile and valid description files and run folders in `folder` (deterministic for a seed)."""
    rng = random.Random(seed)
    chain = urdf_chain(2, [2])
    valid = [
        _write(folder, "chain2.urdf", chain),
        _write(folder, "floating.urdf", urdf_chain(2, [1, 2], fixed_base=False)),
        _write(folder, "prismatic.urdf", urdf_chain(2, [1], joint_type="prismatic")),
        _write(folder, "chain3.sdf", sdf_chain(3, [2, 3])),
        _write(folder, "chain2.xml", mjcf_chain(2, [2])),
        _write(folder, "floating.xml", mjcf_chain(2, [1, 2], floating=True)),
        _write(folder, "tendon.xml", mjcf_chain(3, [], tendon=True)),
        _write(folder, "robøt ☃.urdf", chain.replace("chain2", "robøt☃")),
        _write(folder, "-leading-dash.urdf", chain),
        _write(folder, "chain20.urdf", urdf_chain(20, range(1, 21, 2))),
    ]
    hostile = [
        _write(folder, "empty.urdf", ""),
        _write(folder, "empty.xml", b""),
        _write(folder, "truncated.urdf", chain[: len(chain) // 2]),
        _write(folder, "truncated.xml", mjcf_chain(2, [2])[:150]),
        _write(folder, "binary.urdf", rng.randbytes(4096)),
        _write(folder, "binary.sdf", b"\x00\xff" * 512),
        _write(folder, "laughs.urdf", billion_laughs()),
        _write(folder, "xxe.urdf", external_entity("/etc/hostname")),
        _write(folder, "massless.urdf", urdf_chain(1, [1], joint_type="prismatic", mass=0.0)),
        _write(folder, "massless_floating.urdf", urdf_chain(1, [1], fixed_base=False, mass=0.0)),
        _write(folder, "heavy.urdf", urdf_chain(2, [2], mass=1e308)),
        _write(folder, "tiny.urdf", urdf_chain(2, [2], mass=1e-300)),
        _write(folder, "negative.urdf", urdf_chain(2, [2], mass=-1.0)),
        _write(folder, "nan_mass.urdf", chain.replace('mass value="1.0"', 'mass value="nan"')),
        _write(folder, "inf_inertia.urdf", chain.replace('ixx="0.0833', 'ixx="1e999')),
        _write(folder, "huge_length.xml", mjcf_chain(2, [2]).replace("0 0 -1", "0 0 -1e308")),
        _write(folder, "nan_gear.xml", mjcf_chain(2, [2]).replace('gear="1"', 'gear="nan"')),
        _write(folder, "deep.urdf", '<robot name="d">' + "<a>" * 100_000 + "</a>" * 100_000 + "</robot>"),
        _write(folder, "deep.xml", f"<mujoco><worldbody>{'<body>' * 5000}{'</body>' * 5000}</worldbody></mujoco>"),
        _write(folder, "self_include.xml", '<mujoco><include file="self_include.xml"/></mujoco>'),
        _write(folder, "passwd_include.xml", '<mujoco><include file="/etc/passwd"/></mujoco>'),
        _write(
            folder,
            "mesh_fifo.urdf",
            chain.replace("</link>", '<visual><geometry><mesh filename="fifo.stl"/></geometry></visual></link>', 1),
        ),
        _write(folder, "unicode_names.urdf", chain.replace("joint2", "ĵöïñţ²").replace("link2", "☃")),
        _write(folder, "not_a_robot.urdf", "<html><body>hello</body></html>"),
        _write(folder, "chain.txt", chain),
        _write(folder, "noext", chain),
        _write(folder, "utf16.urdf", chain.encode("utf-16")),
    ]
    (folder / "dir.urdf").mkdir()
    for name in ("fifo.urdf", "fifo.xml", "fifo.stl"):
        os.mkfifo(folder / name)
    (folder / "loop.urdf").symlink_to("loop.urdf")
    hostile += ["dir.urdf", "fifo.urdf", "fifo.xml", "loop.urdf", "missing.urdf", "/dev/null", "/proc/self/status"]
    return Fixtures(models=valid + hostile, descriptions=valid + hostile, runs=_run_folders(folder))


def _run_folders(folder: Path) -> list[str]:
    """A real one-generation run (trained here, in a child) and broken copies of it."""
    ok = folder / "run_ok"
    argv = [
        "train",
        "--generations",
        "1",
        "--population",
        "4",
        "--episodes",
        "1",
        "--eval-episodes",
        "1",
        "--hidden",
        "4",
        "--quiet",
        "--out",
        str(ok),
    ]
    code, _, err = run_case(argv, folder, timeout=120.0, exec_mode=False)
    runs = ["run_empty", "run_file", "run_missing"]
    (folder / "run_empty").mkdir()
    (folder / "run_file").write_text("not a folder\n")
    if code != 0 or not ok.is_dir():
        print(f"fuzz: setup run failed (exit {code}); evaluate gets broken folders only\n{err[-2000:]}")
        return runs
    runs.append("run_ok")
    variants = {
        "run_badjson": {"config.json": b"{"},
        "run_binaryconfig": {"config.json": bytes(range(256))},
        "run_nanconfig": {"config.json": (ok / "config.json").read_text().replace('"sigma": 0.1', '"sigma": NaN')},
        "run_hugehidden": {"config.json": (ok / "config.json").read_text().replace("[\n    4\n  ]", "[999999999]")},
        "run_nullenv": {"config.json": (ok / "config.json").read_text().replace('"CartPole-v1"', "null")},
        "run_truncated": {"best.safetensors": (ok / "best.safetensors").read_bytes()[:40]},
        "run_emptyckpt": {"best.safetensors": b"", "latest.safetensors": b""},
        "run_hugeheader": {"best.safetensors": (2**62).to_bytes(8, "little") + b"{}"},
        "run_metrics": {"metrics.csv": "generation,best\n1,nan\n\x00\x00"},
    }
    for name, files in variants.items():
        shutil.copytree(ok, folder / name)
        for fname, data in files.items():
            _write(folder / name, fname, data)
        runs.append(name)
    shutil.copytree(ok, folder / "run_noconfig")
    (folder / "run_noconfig" / "config.json").unlink()
    shutil.copytree(ok, folder / "run_fifo")
    (folder / "run_fifo" / "config.json").unlink()
    os.mkfifo(folder / "run_fifo" / "config.json")
    return runs + ["run_noconfig", "run_fifo"]


def make_case(seed: int, index: int, fx: Fixtures) -> list[str]:
    """The argv of case `index`; a function of (seed, index) and the fixtures only."""
    rng = random.Random(f"{seed}:{index}")
    command = COMMANDS[index % len(COMMANDS)] if index < len(COMMANDS) else rng.choice(COMMANDS)
    model = rng.choice(BUILTINS * 3 + fx.models + WORDS)
    n = 1 if model == "pendulum" else 2
    flags: dict[str, list[str]] = {}  # flag -> cheap values ([] for a switch)
    fixed: dict[str, str | None] = {}  # present unless that flag is fuzzed, to keep the case cheap
    positional: list[str] = []
    if command == "demo":
        flags = {"--states": ["-1", "0"], "--out": ["fifo.urdf", "dir.urdf/x", "run_file/sub", "/proc/demo"]}
        fixed = {"--states": "0"}  # every demo case refuses something: a valid demo takes ~20 s
    elif command == "equation":
        positional = [model]
        flags = {
            "--backend": ["analytic", "drake", "mujoco"],
            "--q": [_vector(rng, n)],
            "--v": [_vector(rng, n)],
            "--json": [],
            "--base": ["auto", "fixed", "floating"],
        }
    elif command == "analyze":
        positional = [model]
        flags = {
            "--backend": ["analytic", "drake", "mujoco"],
            "--equilibrium": [_vector(rng, n)],
            "--samples": ["1", "5", "20"],
            "--seed": ["0", "7", str(2**70)],
            "--json": [],
            "--mat": ["out.mat", "OUT", "dir.urdf", "fifo.urdf", "no/such/x.mat", "/proc/x.mat", "☃.mat"],
            "--base": ["auto", "fixed", "floating"],
        }
        fixed = {"--samples": "5"}
    elif command == "crosscheck":
        positional = [model]
        flags = {
            "--states": ["1", "5"],
            "--seed": ["0", "3"],
            "--atol": ["1e-8", "0", "1"],
            "--rtol": ["1e-6", "0"],
            "--json": [],
            "--base": ["auto", "fixed", "floating"],
        }
        fixed = {"--states": "5"}
    elif command == "classify":
        positional = [rng.choice(fx.descriptions + WORDS) for _ in range(rng.randint(1, 3))]
        flags = {"--json": [], "--base": ["auto", "fixed", "floating"], "--actuation": ["auto", "declared", "assumed"],
                 "--verbose": []}
    elif command == "simulate":
        positional = [rng.choice(BUILTINS * 4 + WORDS + fx.models[:3])]
        flags = {
            "--controller": ["swingup", "lqr", "pinv", "none"],
            "--backend": ["analytic", "drake", "mujoco"],
            "--duration": ["0.05", "0.2"],
            "--seed": ["0", "5"],
            "--x0": [_vector(rng, 2 * n)],
            "--out": [f"sim{index}", "dir.urdf", "fifo.urdf", "run_file/x", "/proc/sim"],
            "--json": [],
        }
        fixed = {"--duration": "0.2"}
    elif command == "train":
        flags = {
            "--env": [
                "CartPole-v1",
                "underact/CartPoleBalance-v0",
                "underact/AcrobotSwingUp-v0",
                "NoSuchEnv-v0",
                "underact/Nope-v9",
                "ALE/Pong-v5",
            ],
            "--rule": ["ABCD_lr", "static", "nope"],
            "--hidden": ["4", "none", "2,2", "0", "-3", "4,x"],
            "--population": ["2", "4"],
            "--generations": ["1"],
            "--episodes": ["1"],
            "--sigma": ["0.1"],
            "--lr": ["0.05"],
            "--sigma-decay": ["0.99"],
            "--lr-decay": ["0.99"],
            "--l2": ["0"],
            "--optimizer": ["adam", "sgd"],
            "--no-antithetic": [],
            "--target-return": ["auto", "none", "10"],
            "--eval-episodes": ["1"],
            "--seed": ["0", "1"],
            "--workers": ["1"],
            "--vectorization": ["auto", "native", "sync"],
            "--env-kwargs": ["{}", "[]", "{", '{"x": NaN}'],
            "--encoder": ["supcon:run_file", "reformer:fifo.urdf", "bogus", "supcon:"],
            "--out": [f"train{index}", "run_ok", "run_file", "dir.urdf", "/proc/t"],
            "--resume": ["run_ok", "run_badjson", "run_empty", "run_missing"],
            "--json": [],
        }
        fixed = {
            "--generations": "1",
            "--population": "4",
            "--episodes": "1",
            "--eval-episodes": "1",
            "--hidden": "4",
            "--quiet": None,
            "--out": f"train{index}",
        }
    elif command == "evaluate":
        positional = [rng.choice(fx.runs + WORDS)]
        flags = {
            "--episodes": ["1", "2"],
            "--checkpoint": ["best", "latest"],
            "--seed": ["0", "4"],
            "--render": ["ep.gif", "dir.urdf", "x.png", "fifo.urdf", "/proc/e.gif"],
            "--json": [],
        }
        fixed = {"--episodes": "1"}
    chosen = rng.sample(sorted(flags), k=min(len(flags), rng.randint(0, 4)))
    argv = [command, *positional]
    for flag in chosen:
        if not flags[flag]:
            argv.append(flag)
        else:
            argv += [flag, _value(rng, flags[flag])]
    for flag, value in fixed.items():
        if flag not in chosen:
            argv += [flag] if value is None else [flag, value]
    roll = rng.random()
    if roll < 0.04:
        argv.append(rng.choice(["--bogus", "-x", "--json=1", "--", "--help"]))
    elif roll < 0.07:
        argv.insert(rng.randrange(1, len(argv) + 1), rng.choice(HOSTILE))
    return argv


def _limits(base_address_space: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (base_address_space + EXTRA_ADDRESS_SPACE,) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _address_space() -> int:
    with open("/proc/self/status") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmSize:"))
    return kb * 1024


def _child(argv: list[str], cwd: Path, out: Path, err: Path, exec_mode: bool, base: int) -> None:
    """Runs in the forked child: never returns."""
    code = 1
    try:
        os.setpgid(0, 0)
        os.chdir(cwd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 1)
        os.dup2(os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 2)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the file-size limit: an OSError, not a kill
        _limits(base)
        if exec_mode:
            os.execv(sys.executable, [sys.executable, "-m", "underact.cli", *argv])
        from underact.cli import main

        sys.argv = ["underact", *argv]
        try:
            code = main(argv)
        except SystemExit as exc:  # what the interpreter does with an uncaught SystemExit
            if exc.code is None or isinstance(exc.code, int):
                code = exc.code or 0
            else:
                print(exc.code, file=sys.stderr)
                code = 1
        except BaseException:  # what the interpreter does with any other uncaught exception
            traceback.print_exc()
            code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a child on its way out
                pass
        os._exit(code if isinstance(code, int) and 0 <= code < 256 else 1)


@dataclass
class Running:
    index: int
    argv: list[str]
    pid: int
    started: float
    deadline: float
    out: Path
    err: Path


def _start(index: int, argv: list[str], cwd: Path, logs: Path, timeout: float, exec_mode: bool) -> Running:
    out, err = logs / f"{index}.out", logs / f"{index}.err"
    base = _address_space()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _child(argv, cwd, out, err, exec_mode, base)
    try:
        os.setpgid(pid, pid)  # also in the parent, so a kill right away finds the group
    except OSError:
        pass
    now = time.monotonic()
    return Running(index, argv, pid, now, now + timeout, out, err)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _poll(job: Running) -> tuple[bool, int | None]:
    """(finished, exit code: negative for a signal, None for a hang) without blocking; past the deadline the
    case's process group is killed. Whatever a finished case left running in its group is killed too."""
    pid, status = os.waitpid(job.pid, os.WNOHANG)
    if pid:
        code = os.waitstatus_to_exitcode(status)
    elif time.monotonic() >= job.deadline:
        _kill_group(job.pid)
        os.waitpid(job.pid, 0)
        code = None
    else:
        return False, None
    _kill_group(job.pid)
    return True, code


def run_case(argv: list[str], cwd: Path, timeout: float, exec_mode: bool) -> tuple[int | None, str, str]:
    """One case, on its own: (exit code or None if it hung, stdout, stderr)."""
    with tempfile.TemporaryDirectory() as logs:
        job = _start(0, argv, cwd, Path(logs), timeout, exec_mode)
        while not (result := _poll(job))[0]:
            time.sleep(0.02)
        return result[1], job.out.read_text(errors="replace"), job.err.read_text(errors="replace")


def failure_kind(code: int | None, err: str) -> str | None:
    if code is None:
        return "hang"
    if "Traceback" in err:
        return "traceback"
    if "underact: internal error" in err:  # the CLI's last-resort line: a defect, not a user error
        return "internal"
    if code not in (0, 1, 2):
        return f"exit {code}"
    return None


def fuzz(cases: int, seed: int, jobs: int, timeout: float, workdir: Path, exec_mode: bool, verbose: bool) -> dict:
    """Runs the cases; returns the summary (counts, failures as (kind, argv, stderr tail), seconds)."""
    started = time.monotonic()
    fx = make_fixtures(workdir, seed)
    logs = workdir / ".logs"
    logs.mkdir()
    pending = collections.deque((i, make_case(seed, i, fx)) for i in range(cases))
    running: dict[int, Running] = {}
    codes: collections.Counter = collections.Counter()
    failures: list[tuple[str, list[str], str]] = []
    slowest = (0.0, [""])
    while pending or running:
        while pending and len(running) < jobs:
            index, argv = pending.popleft()
            job = _start(index, argv, workdir, logs, timeout, exec_mode)
            running[job.pid] = job
        time.sleep(0.005)
        for pid, job in list(running.items()):
            finished, code = _poll(job)
            if not finished:
                continue
            del running[pid]
            seconds = time.monotonic() - job.started
            slowest = max(slowest, (seconds, job.argv))
            err = job.err.read_text(errors="replace")
            codes["hang" if code is None else code] += 1
            kind = failure_kind(code, err)
            if kind:
                failures.append((kind, job.argv, err[-1500:]))
            if verbose:
                status = "hang" if code is None else f"exit {code}"
                print(f"[{job.index}] {seconds:5.1f} s {status} {kind or ''} underact {shlex.join(job.argv)}")
    seconds = time.monotonic() - started
    return {"cases": cases, "codes": codes, "failures": failures, "seconds": seconds, "slowest": slowest}


def report(summary: dict, workdir: Path) -> str:
    codes, failures = summary["codes"], summary["failures"]
    kinds = collections.Counter(kind.split()[0] for kind, _, _ in failures)
    rows = [
        ("cases", summary["cases"]),
        ("exit 0", codes.get(0, 0)),
        ("exit 1", codes.get(1, 0)),
        ("exit 2", codes.get(2, 0)),
        ("other exit or signal", sum(v for k, v in codes.items() if k not in (0, 1, 2, "hang"))),
        ("tracebacks", kinds.get("traceback", 0)),
        ("internal errors", kinds.get("internal", 0)),
        ("hangs (killed)", kinds.get("hang", 0)),
        ("failures", len(failures)),
        ("seconds", f"{summary['seconds']:.1f}"),
    ]
    lines = [f"  {name:<22} {value:>8}" for name, value in rows]
    seconds, argv = summary["slowest"]
    lines.append(f"  slowest case: {seconds:.1f} s, underact {shlex.join(argv)}")
    if failures:
        lines.append(f"failures (run in {workdir}): {workdir / 'failures.txt'}")
        for kind, argv, _ in failures[:20]:
            lines.append(f"  {kind:<10} underact {shlex.join(argv)}")
    return "\n".join(lines)


def preimport() -> None:
    """Imports what the commands import lazily, so forked children inherit the modules instead of loading them."""
    import importlib

    import underact.cli

    for name in PREIMPORTS:
        importlib.import_module(name)
    underact.cli.build_parser()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200, help="number of command lines (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="cases at once (default 2)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a case counts as a hang")
    parser.add_argument("--workdir", type=Path, default=None, help="empty or new folder (default: a temporary one)")
    parser.add_argument("--exec", action="store_true", help="fresh `python -m underact.cli` processes, not forks")
    parser.add_argument("--verbose", action="store_true", help="print every case as it finishes")
    args = parser.parse_args(argv)
    if args.cases < 1 or args.jobs < 1 or not args.timeout > 0:
        parser.error("--cases and --jobs must be at least 1 and --timeout positive")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="underact-fuzz-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if any(workdir.iterdir()):
        parser.error(f"--workdir {workdir} is not empty")
    if not args.exec:
        preimport()
    summary = fuzz(args.cases, args.seed, args.jobs, args.timeout, workdir.resolve(), args.exec, args.verbose)
    lines = [f"cd {shlex.quote(str(workdir.resolve()))}"]
    for kind, failed, err in summary["failures"]:
        last = (err.strip().splitlines() or [""])[-1][:200]
        lines.append(f"underact {shlex.join(failed)}  # {kind}: {last}")
    if summary["failures"]:
        (workdir / "failures.txt").write_text("\n".join(lines) + "\n")
    print(report(summary, workdir.resolve()))
    if not summary["failures"] and args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
