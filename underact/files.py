"""Writing files atomically: a reader sees the old file or the new one, never half of one.

Every file underact writes for a user (run folders, checkpoints, encoder files, .mat exports, HTML pages, GIFs)
goes through `replacing` or `atomic_write`: the data goes to a temporary file `.NAME.XXXXXXXX.tmp` in the same
folder, is flushed to disk (fsync), gets the permissions `open()` would give a new file (0o666 less the umask)
and is renamed over NAME (`os.replace`, atomic on POSIX), and the folder is synced so the rename survives a
power cut. A failed or interrupted write removes the temporary file and leaves NAME as it was; the OSError
names NAME, not the temporary file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temporary_pattern(name: str) -> str:
    """The glob pattern of the temporary files that writing `name` may leave after a kill (`.NAME.*.tmp`)."""
    return f".{name}.*.tmp"


def _new_file_mode() -> int:
    """The permissions `open(path, "w")` gives a new file: 0o666 less the umask (mkstemp's are 0o600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """Yields a temporary path beside `path` to write to; on leaving the block it replaces `path` atomically.

        with replacing("out.mat") as tmp:
            scipy.io.savemat(tmp, arrays, appendmat=False)

    An exception in the block (or a failed write) removes the temporary file and leaves `path` untouched.
    """
    path = Path(path)
    tmp = None
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        tmp = Path(name)
        os.fchmod(fd, _new_file_mode())
        os.close(fd)
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        if exc.errno is None:
            raise
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def atomic_write(path: str | Path, data: bytes) -> None:
    """Writes `data` to `path` atomically (see `replacing`); an OSError (read-only folder, full disk) names `path`."""
    with replacing(path) as tmp:
        tmp.write_bytes(data)


def output_problem(path: str | Path) -> str | None:
    """Why a file could not be written at `path` (checked before any work is done), or None: it is a directory or
    another non-regular file (a FIFO, a device: replacing it would destroy it, opening it could block), or its folder
    does not exist or is not writable."""
    target = Path(path)
    if target.is_dir() or (target.exists() and not target.is_file()):
        return "exists and is not a regular file"
    if not target.parent.is_dir():
        return f"the folder {target.parent} does not exist"
    if not os.access(target.parent, os.W_OK | os.X_OK):
        return f"the folder {target.parent} is not writable"
    return None
