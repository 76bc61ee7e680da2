"""A run folder's format, in one place: config, metrics, checkpoints, the manifest that ties them, the lock.

A run folder holds
- `config.json`  the `TrainConfig` (written once, at creation);
- `metrics.csv`  one row per finished generation (`METRICS_COLUMNS`, see `underact.agents.trainer`);
- `best.safetensors`  the best ES center so far (array `genome`, float32; kind "best-genome");
- `latest.safetensors`  the ES state after the last finished generation (arrays `center`, `adam_m`, `adam_v`;
  metadata: ES settings, σ, step size, Adam step count, numpy bit-generator state, progress; kind "es-state")
  and the **manifest**: the SHA-256 of `config.json`, of `metrics.csv`'s rows up to the checkpoint's
  generation, the checksum of `best.safetensors`, and the genome length (the network's parameter count, so a
  reader checks a genome's size without building the environment; runs written before it was recorded have it
  computed from the config);
- `curve.png`  the learning curve;
- `lock`  an advisory `flock` held by the `underact train` that writes the folder, for its whole lifetime
  (the file holds that process's id).

Both checkpoints are files of the one format of `underact.agents.checkpoint`, whose `sha256` covers their arrays
and metadata, so no setting, counter or generator state can change unnoticed. Every file is replaced atomically
(`underact.files`: temporary file `.NAME.XXXX.tmp` in the same folder, fsync, `os.replace`). Each generation
writes metrics.csv, then best.safetensors (when the center improved), then latest.safetensors **last**: the
latest checkpoint is the commit point. A kill between those writes leaves metrics.csv one row ahead (dropped on
resume, the rows up to the checkpoint verified against the manifest) or best.safetensors from the unfinished
generation (accepted: the resumed run recomputes that generation bit for bit and writes the same file). A folder
without latest.safetensors was killed before its first checkpoint: `--out` reuses it, `--resume` says so.
"""

from __future__ import annotations

import csv
import errno
import fcntl
import io
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from underact.agents.checkpoint import load_checkpoint, save_checkpoint, sha256
from underact.agents.config import TrainConfig
from underact.files import atomic_write, temporary_pattern

CONFIG, METRICS, LATEST, BEST, CURVE, LOCK = (
    "config.json",
    "metrics.csv",
    "latest.safetensors",
    "best.safetensors",
    "curve.png",
    "lock",
)
GENOME_LENGTH = "genome_length"  # the manifest's record of the network's parameter count
WRITTEN = (CONFIG, METRICS, LATEST, BEST, CURVE)  # files replaced atomically, each possibly leaving a temp file
METRICS_COLUMNS = (
    "generation",
    "best_return",
    "mean_return",
    "center_return",
    "env_steps",
    "wall_s",
    "sigma",
    "lr",
    "verified_return",
)


# --- metrics ----------------------------------------------------------------------------------------


def metrics_bytes(rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=METRICS_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()


def _parse_metrics(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def read_metrics(folder: Path) -> list[dict[str, str]]:
    """The rows of metrics.csv as written (unverified, for display); [] if there is none."""
    path = Path(folder) / METRICS
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def verified_metrics(folder: Path, generations: int, digest: str) -> list[dict[str, str]]:
    """The first `generations` rows of metrics.csv, checked against the manifest's `digest`; ValueError saying
    what is wrong otherwise. Rows past them (from a generation a kill interrupted) are dropped."""
    path = Path(folder) / METRICS
    restore = f"restore it, or start the run again with --out (the checkpoint is at generation {generations})"
    if not path.is_file():
        raise ValueError(f"{path} is missing; {restore}")
    lines = path.read_bytes().split(b"\n")[:-1]  # complete lines only
    if len(lines) < generations + 1:
        rows = max(len(lines) - 1, 0)
        raise ValueError(f"{path} has {rows} complete rows, the checkpoint needs {generations}; {restore}")
    prefix = b"".join(line + b"\n" for line in lines[: generations + 1])
    if sha256(prefix) != digest:
        raise ValueError(f"{path} does not match the checkpoint's manifest (rows edited, lost or reordered); {restore}")
    return _parse_metrics(prefix)


# --- the lock and stale temporary files -------------------------------------------------------------


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Holds the folder's advisory lock (creating the folder and lock file if needed) and removes temporary
    files that killed writes left; ValueError if another process holds it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise ValueError(
                f"{folder} is in use by another underact train (pid {holder}); wait for it to end"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        for name in WRITTEN:
            for tmp in folder.glob(temporary_pattern(name)):
                tmp.unlink(missing_ok=True)
        yield
    finally:
        os.close(fd)  # releases the lock


def new_run_problem(folder: Path) -> str | None:
    """Why `folder` cannot take a new run (None if it can); a folder that a run left before its first
    checkpoint (only the lock, config.json, metrics.csv, temporary files) is reused, with a note."""
    folder = Path(folder)
    if not folder.exists():
        return None
    if not folder.is_dir():
        return f"{folder} exists and is not a folder"
    leftovers = {LOCK, CONFIG, METRICS}
    names = {p.name for p in folder.iterdir()}
    names = {n for n in names if not (n.endswith(".tmp") and any(n.startswith(f".{w}.") for w in WRITTEN))}
    if names and (LATEST in names or not names <= leftovers):
        return f"{folder} already exists and is not empty; use --resume {folder} or another --out"
    return None


# --- writing a run ----------------------------------------------------------------------------------


def config_bytes(config: TrainConfig) -> bytes:
    return (config.to_json() + "\n").encode()


def write_config(folder: Path, config: TrainConfig) -> None:
    atomic_write(Path(folder) / CONFIG, config_bytes(config))


def save_best(folder: Path, genome: np.ndarray, generation: int, center_return: float) -> str:
    """Writes best.safetensors (kind "best-genome"); returns its checksum for the manifest."""
    meta = {"kind": "best-genome", "generation": str(generation), "center_return": repr(center_return)}
    return save_checkpoint(Path(folder) / BEST, {"genome": genome.astype(np.float32)}, meta)


def commit(
    folder: Path,
    rows: list[dict[str, str]],
    es_state: tuple[dict[str, np.ndarray], dict[str, str]],
    progress: dict,
    manifest: dict,
) -> None:
    """Writes metrics.csv, then latest.safetensors (the commit point: the ES state `es_state` of
    `OpenAIES.state_dict()`, the `progress`, and `manifest` naming the config, these metrics and the best genome)."""
    folder = Path(folder)
    metrics = metrics_bytes(rows)
    atomic_write(folder / METRICS, metrics)
    manifest["metrics_sha256"] = sha256(metrics)
    arrays, strings = es_state
    meta = {**strings, "kind": "es-state", "progress": json.dumps(progress), "manifest": json.dumps(manifest)}
    save_checkpoint(folder / LATEST, arrays, meta)


# --- reading a run ----------------------------------------------------------------------------------


def is_run(folder: Path) -> bool:
    return (Path(folder) / CONFIG).is_file() and (Path(folder) / LATEST).is_file()


def read_latest(folder: Path) -> tuple[dict[str, np.ndarray], dict[str, str], dict]:
    """(arrays, metadata, manifest) of the latest checkpoint, verified; ValueError if `folder` is not a run."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a run folder (no such folder)")
    if not (folder / LATEST).is_file():
        if (folder / CONFIG).is_file():
            raise ValueError(
                f"{folder} holds a run killed before its first checkpoint; start it again with --out {folder}"
            )
        raise ValueError(f"{folder} is not a run folder (needs {CONFIG} and {LATEST})")
    arrays, meta = load_checkpoint(folder / LATEST, "es-state")
    try:
        manifest = json.loads(meta["manifest"])
        for key in ("config_sha256", "metrics_sha256", "best_sha256"):
            if not isinstance(manifest[key], str):
                raise TypeError(key)
        length = manifest.get(GENOME_LENGTH, 1)  # absent in runs written before it was recorded
        if type(length) is not int or length < 1:
            raise TypeError(GENOME_LENGTH)
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{folder / LATEST}: the manifest is missing or malformed") from None
    return arrays, meta, manifest


def read_config(folder: Path, manifest: dict[str, str] | None = None) -> TrainConfig:
    """The config of a run folder, checked against the manifest; ValueError if `folder` is not a run or its
    config.json was changed after the run started."""
    folder = Path(folder)
    if manifest is None:
        manifest = read_latest(folder)[2]
    path = folder / CONFIG
    if not path.is_file():
        raise ValueError(f"{path} is missing; restore it (the checkpoint needs the config it was trained with)")
    data = path.read_bytes()
    if sha256(data) != manifest["config_sha256"]:
        raise ValueError(f"{path} was changed after the run started (checksum mismatch with the manifest); restore it")
    try:
        return TrainConfig.from_json(data.decode())
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: unreadable run config ({exc})") from None


def best_checkpoint(folder: Path, manifest: dict[str, str], generation: int) -> tuple[np.ndarray, dict] | None:
    """(genome, metadata) of best.safetensors, or None if the run has none yet. It must be the one the manifest
    names, or one written by the generation after the checkpoint (`generation`, interrupted by a kill)."""
    path = Path(folder) / BEST
    if not path.is_file():
        if manifest["best_sha256"]:
            raise ValueError(f"{path} is missing; restore it, or use --checkpoint latest for the current center")
        return None
    arrays, meta = load_checkpoint(path, "best-genome")
    if meta["sha256"] != manifest["best_sha256"] and meta.get("generation") != str(generation):
        raise ValueError(f"{path} does not belong to this run's checkpoint (not the best genome its manifest names)")
    return arrays["genome"], meta


def load_genome(folder: Path, which: str = "best") -> np.ndarray:
    """The genome to deploy from a run: "best" (best center so far) or "latest" (the current center), verified
    (manifest, size, finite); ValueError naming the problem, and never a silent fallback to the other."""
    folder = Path(folder)
    arrays, meta, manifest = read_latest(folder)
    config = read_config(folder, manifest)
    if which == "latest":
        genome, name = arrays["center"].astype(np.float32), LATEST
    elif which == "best":
        best = best_checkpoint(folder, manifest, json.loads(meta["progress"])["generation"])
        if best is None:
            raise ValueError(f"{folder} has no best genome yet (no generation finished); use --checkpoint latest")
        genome, name = best[0], BEST
    else:
        raise ValueError(f"checkpoint must be 'best' or 'latest', got {which!r}")
    check_genome(genome, genome_length(manifest, config), folder / name)
    return genome


def genome_length(manifest: dict, config: TrainConfig) -> int:
    """The parameter count of the run's network, as the manifest records it; for a run written before it was
    recorded, computed from `config` (which builds its environment, and loads its encoder if it has one)."""
    if GENOME_LENGTH in manifest:
        return manifest[GENOME_LENGTH]
    from underact.agents.build import make_net  # only for such older runs

    return make_net(config).num_params


def check_genome(genome: np.ndarray, size: int, where: Path) -> None:
    """ValueError unless `genome` is a finite vector of `size` parameters (the run's network's)."""
    if genome.ndim != 1 or genome.size != size:
        raise ValueError(f"{where}: holds {genome.shape} parameters, the run's network needs ({size},)")
    if not np.all(np.isfinite(genome)):
        bad = int(np.count_nonzero(~np.isfinite(genome)))
        raise ValueError(f"{where}: {bad} of {size} parameters are not finite (NaN or inf); the run diverged")
