"""The one file format of `underact.agents`: a safetensors file, tagged, checksummed, written atomically.

A checkpoint is named arrays (no pickle) plus string metadata. The metadata holds
- `format`: `underact-es-checkpoint-2` (the tag every underact safetensors file carries; named for its first use);
- `kind`: what the file holds ("es-state", "best-genome" in run folders; "supcon", "reformer" for encoders);
- `sha256`: a SHA-256 over the arrays (names, dtypes, shapes, bytes) and every other metadata entry, so no
  setting, counter or generator state can change unnoticed;
- whatever else the writer adds (each value a string, JSON where structured).

Files are replaced atomically (`underact.files.atomic_write`). `load_checkpoint` refuses, in one `ValueError`
naming the file, a missing or malformed file, another format tag, a checksum mismatch and (when asked) another
kind. Encoder files written before encoders used this format carry no tag and no checksum; a reader that names
their metadata keys (`legacy_keys`) still accepts them, unverified.

    save_checkpoint("g.safetensors", {"genome": np.zeros(3, np.float32)}, {"kind": "best-genome"})
    arrays, meta = load_checkpoint("g.safetensors", "best-genome")
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from underact.files import atomic_write

FORMAT = "underact-es-checkpoint-2"


def sha256(data: bytes) -> str:
    """Hex SHA-256 of `data`."""
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


def save_checkpoint(path: str | Path, arrays: dict[str, np.ndarray], meta: dict[str, str]) -> str:
    """Atomically writes a safetensors file with a format tag and a SHA-256 of its arrays and metadata in the
    metadata; returns that checksum."""
    from safetensors.numpy import save

    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    meta = {**meta, "format": FORMAT}
    meta["sha256"] = _digest(arrays, meta)
    atomic_write(path, save(arrays, metadata=meta))
    return meta["sha256"]


def load_checkpoint(
    path: str | Path, kind: str | None = None, legacy_keys: tuple[str, ...] = (), what: str = "checkpoint"
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(arrays, metadata) of a checkpoint; ValueError naming the file (as a `what`) if it is missing, corrupted,
    or (with `kind`) holds something else. A file without a format tag that has every metadata key in
    `legacy_keys` (non-empty) is accepted unverified (encoder files from before this format); its `kind`, if it
    has one, must match."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no {what} there")
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = dict(f.metadata() or {})
            arrays = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open is not a dict
    except Exception as exc:  # safetensors raises several types for malformed files
        raise ValueError(f"{path}: corrupted {what} ({type(exc).__name__})") from None
    legacy = "format" not in meta and legacy_keys and all(k in meta for k in legacy_keys)
    if not legacy:
        if meta.get("format") != FORMAT:
            tag = meta.get("format")
            raise ValueError(f"{path}: not an underact {what} of format {FORMAT} (format tag {tag!r})")
        if meta.get("sha256") != _digest(arrays, meta):
            raise ValueError(f"{path}: corrupted {what} (checksum mismatch)")
    if kind is not None and meta.get("kind", kind if legacy else None) != kind:
        raise ValueError(f"{path}: holds a {meta.get('kind')!r} {what}, expected {kind!r} (files swapped?)")
    return arrays, meta
