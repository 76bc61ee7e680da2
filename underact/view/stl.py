"""STL meshes as Wavefront OBJ, the format Drake's Meshcat draws (it skips .stl visuals).

Binary STL (80-byte header, a triangle count, 50 bytes a triangle) and ASCII STL (`vertex x y z` lines) are
read with numpy; shared vertices are merged. Files reach here already vetted (regular, within the size cap).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np


def read_stl(path: Path) -> np.ndarray:
    """Triangles (n, 3, 3) of an STL file; ValueError when it is neither valid binary nor ASCII STL."""
    data = path.read_bytes()
    if len(data) >= 84:
        (count,) = struct.unpack_from("<I", data, 80)
        if len(data) == 84 + 50 * count:
            records = np.frombuffer(data, dtype=np.dtype([("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")]),
                                    count=count, offset=84)
            return records["v"].astype(np.float64)
    text = data.decode("ascii", errors="replace")
    rows = [line.split()[1:4] for line in text.splitlines() if line.strip().startswith("vertex")]
    if not rows or len(rows) % 3:
        raise ValueError(f"{path.name}: not a binary or ASCII STL file")
    return np.asarray(rows, dtype=np.float64).reshape(-1, 3, 3)


def write_obj(triangles: np.ndarray, path: Path) -> None:
    """Triangles (n, 3, 3) as an OBJ file with merged vertices."""
    vertices, index = np.unique(triangles.reshape(-1, 3), axis=0, return_inverse=True)
    faces = index.reshape(-1, 3) + 1
    lines = [f"v {x:.6g} {y:.6g} {z:.6g}" for x, y, z in vertices]
    lines += [f"f {a} {b} {c}" for a, b, c in faces]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
