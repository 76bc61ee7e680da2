"""Software rendering of planar linkages in numpy: anti-aliased capsules on a white canvas, batched over states.

Everything the environments draw (links, cart, rail, pivots) is a capsule: a segment between two world points with
a radius in pixels. A pixel's coverage is its signed distance to the capsule's edge clipped to [0, 1] (a one-pixel
ramp), and capsules are composited in order, so later ones are drawn on top. No GPU, no display, no pygame: a
numba-compiled loop (compiled on first use, cached next to this file) visits only each capsule's bounding box.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

BACKGROUND = np.array([255, 255, 255], dtype=np.float32)


@dataclass(frozen=True)
class View:
    """A camera: world point at the image centre and pixels per metre (y points up in the world, down in images)."""

    center: tuple[float, float]
    scale: float
    width: int
    height: int

    def to_pixels(self, points: np.ndarray) -> np.ndarray:
        """World points (..., 2) in metres to pixel coordinates (..., 2) as (column, row), pixel centres at +0.5."""
        col = self.width / 2 + (points[..., 0] - self.center[0]) * self.scale
        row = self.height / 2 - (points[..., 1] - self.center[1]) * self.scale
        return np.stack([col, row], axis=-1)


def draw_capsules(view: View, segments: np.ndarray, radii: np.ndarray, colors: np.ndarray) -> np.ndarray:
    """Frames (N, H, W, 3) uint8 of N scenes, each S capsules drawn in order.

    segments (N, S, 2, 2): two world end points per capsule; radii (S,) in pixels; colors (S, 3) in 0..255.
    Each capsule only touches the pixels of its bounding box (a compiled loop, `_rasterise`), so a frame costs
    about as much as the area its capsules cover; capsules with a non-finite end point are skipped.
    """
    segments = np.asarray(segments, dtype=np.float64)
    if segments.ndim != 4 or segments.shape[2:] != (2, 2):
        raise ValueError(f"segments must have shape (N, S, 2, 2); got {segments.shape}")
    radii = np.ascontiguousarray(radii, dtype=np.float32)
    colors = np.ascontiguousarray(colors, dtype=np.float32)
    if radii.shape != segments.shape[1:2] or colors.shape != (segments.shape[1], 3):
        raise ValueError(
            f"radii must have shape (S,) and colors (S, 3) for S = {segments.shape[1]} capsules; "
            f"got {radii.shape} and {colors.shape}"
        )
    px = np.ascontiguousarray(view.to_pixels(segments), dtype=np.float32)  # (N, S, 2 ends, 2)
    out = np.empty((len(segments), view.height, view.width, 3), dtype=np.uint8)
    _rasterise(px, radii, colors, BACKGROUND, out)
    return out


@njit(cache=True)
def _rasterise(px, radii, colors, background, out):  # pragma: no cover - compiled
    """Composites capsule s of scene i (end points px[i, s] in pixels) over `background` into out[i].

    A pixel's coverage is clip(radius + 0.5 − distance to the segment, 0, 1), evaluated at its centre.
    """
    n, n_s = px.shape[0], px.shape[1]
    height, width = out.shape[1], out.shape[2]
    image = np.empty((height, width, 3), dtype=np.float32)
    for i in range(n):
        for r in range(height):
            for c in range(width):
                for k in range(3):
                    image[r, c, k] = background[k]
        for s in range(n_s):
            ax, ay, bx, by = px[i, s, 0, 0], px[i, s, 0, 1], px[i, s, 1, 0], px[i, s, 1, 1]
            if not (np.isfinite(ax) and np.isfinite(ay) and np.isfinite(bx) and np.isfinite(by)):
                continue
            reach = radii[s] + np.float32(0.5)
            # Pixel centres sit at index + 0.5: columns whose centre may lie within `reach` of the segment.
            lo_x = max(min(ax, bx) - reach - np.float32(0.5), np.float32(0.0))
            hi_x = min(max(ax, bx) + reach + np.float32(0.5), np.float32(width))
            lo_y = max(min(ay, by) - reach - np.float32(0.5), np.float32(0.0))
            hi_y = min(max(ay, by) + reach + np.float32(0.5), np.float32(height))
            if lo_x >= hi_x or lo_y >= hi_y:
                continue
            c0, c1, r0, r1 = int(lo_x), int(np.ceil(hi_x)), int(lo_y), int(np.ceil(hi_y))
            abx, aby = bx - ax, by - ay
            length2 = max(abx * abx + aby * aby, np.float32(1e-12))
            for r in range(r0, min(r1, height)):
                dy = np.float32(r) + np.float32(0.5) - ay
                for c in range(c0, min(c1, width)):
                    dx = np.float32(c) + np.float32(0.5) - ax
                    t = min(max((dx * abx + dy * aby) / length2, np.float32(0.0)), np.float32(1.0))
                    ex, ey = dx - t * abx, dy - t * aby
                    alpha = min(reach - np.sqrt(ex * ex + ey * ey), np.float32(1.0))
                    if alpha > 0:
                        for k in range(3):
                            image[r, c, k] += alpha * (colors[s, k] - image[r, c, k])
        for r in range(height):
            for c in range(width):
                for k in range(3):
                    out[i, r, c, k] = np.uint8(np.rint(image[r, c, k]))
