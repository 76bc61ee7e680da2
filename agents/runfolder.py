"""A run folder's format, in one place: config, metrics, checkpoints, the manifest that ties them, the lock.

A run folder holds
- `config.json`  the `TrainConfig` (written once, at creation);
- `metrics.csv`  one row per finished generation (`METRICS_COLUMNS`, see `underact.agents.trainer`);
- `best.safetensors`  the best ES center so far (array `genome`, float32; kind "best-genome");
- `latest.safetensors`  the ES state after the last finished generation (arrays `center`, `adam_m`, `adam_v`;
  metadata: ES settings, σ, step size, Adam step count, numpy bit-generator state, progress; kind "es-state")
  and the **manifest**: the SHA-256 of `config.json`, of `metrics.csv`'s rows up to the checkpoint's
  generation, and the checksum of `best.safetensors`;
- `curve.png`  the learning curve;
- `lock`  an advisory `flock` held by the `underact train` that writes the folder, for its whole lifetime
  (the file holds that process's id).

Every checkpoint's `sha256` covers its arrays (names, dtypes, shapes, bytes) and every other metadata entry, so
no setting, counter or generator state can change unnoticed. Every file is replaced atomically (temporary file
`.NAME.XXXX.tmp` in the same folder, fsync, `os.replace`). Each generation writes metrics.csv, then
best.safetensors (when the center improved), then latest.safetensors **last**: the latest checkpoint is the
commit point. A kill between those writes leaves metrics.csv one row ahead (dropped on resume, the rows up to
the checkpoint verified against the manifest) or best.safetensors from the unfinished generation (accepted:
the resumed run recomputes that generation bit for bit and writes the same file). A folder without
latest.safetensors was killed before its first checkpoint: `--out` reuses it, `--resume` says so.
"""

from __future__ import annotations

import csv
import errno
import fcntl
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from underact.agents.config import TrainConfig

FORMAT = "underact-es-checkpoint-2"
CONFIG, METRICS, LATEST, BEST, CURVE, LOCK = (
    "config.json",
    "metrics.csv",
    "latest.safetensors",
    "best.safetensors",
    "curve.png",
    "lock",
)
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


# --- atomic files and checksums ---------------------------------------------------------------------


def atomic_write(path: Path, data: bytes) -> None:
    """Writes `data` to `path` so that a reader sees the old or the new file, never a partial one; an OSError
    (read-only folder, full disk) names `path`, not the temporary file."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _digest(arrays: dict[str, np.ndarray], meta: dict[str, str]) -> str:
    """SHA-256 over every array (name, dtype, shape, bytes) and every metadata entry but the digest itself."""
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(json.dumps([k, a.dtype.str, list(a.shape)]).encode())
        h.update(a.tobytes())
    h.update(json.dumps({k: v for k, v in meta.items() if k != "sha256"}, sort_keys=True).encode())
    return h.hexdigest()


def save_checkpoint(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, str]) -> str:
    """Atomically writes a safetensors file with a format tag and a SHA-256 of its arrays and metadata in the
    metadata; returns that checksum."""
    from safetensors.numpy import save

    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    meta = {**meta, "format": FORMAT}
    meta["sha256"] = _digest(arrays, meta)
    atomic_write(path, save(arrays, metadata=meta))
    return meta["sha256"]


def load_checkpoint(path: Path, kind: str | None = None) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(arrays, metadata) of a checkpoint; ValueError naming the file if it is missing, corrupted, or (with
    `kind`) holds something else."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no checkpoint there")
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = dict(f.metadata() or {})
            arrays = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open is not a dict
    except Exception as exc:  # safetensors raises several types for malformed files
        raise ValueError(f"{path}: corrupted checkpoint ({type(exc).__name__})") from None
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not an underact checkpoint of format {FORMAT} (format tag {meta.get('format')!r})")
    if meta.get("sha256") != _digest(arrays, meta):
        raise ValueError(f"{path}: corrupted checkpoint (checksum mismatch)")
    if kind is not None and meta.get("kind") != kind:
        raise ValueError(f"{path}: holds a {meta.get('kind')!r} checkpoint, expected {kind!r} (files swapped?)")
    return arrays, meta


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
            for tmp in folder.glob(f".{name}.*.tmp"):
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


# --- reading a run ----------------------------------------------------------------------------------


def is_run(folder: Path) -> bool:
    return (Path(folder) / CONFIG).is_file() and (Path(folder) / LATEST).is_file()


def read_latest(folder: Path) -> tuple[dict[str, np.ndarray], dict[str, str], dict[str, str]]:
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


def config_bytes(config: TrainConfig) -> bytes:
    return (config.to_json() + "\n").encode()


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
    check_genome(genome, config, folder / name)
    return genome


def check_genome(genome: np.ndarray, config: TrainConfig, where: Path) -> None:
    """ValueError unless `genome` is a finite vector of the size `config`'s network needs."""
    size = config.net().num_params
    if genome.ndim != 1 or genome.size != size:
        raise ValueError(f"{where}: holds {genome.shape} parameters, the run's network needs ({size},)")
    if not np.all(np.isfinite(genome)):
        bad = int(np.count_nonzero(~np.isfinite(genome)))
        raise ValueError(f"{where}: {bad} of {size} parameters are not finite (NaN or inf); the run diverged")
