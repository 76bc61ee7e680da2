"""Software rendering of planar linkages in numpy: anti-aliased capsules on a white canvas, batched over states.

Everything the environments draw (links, cart, rail, pivots) is a capsule: a segment between two world points with
a radius in pixels. A pixel's coverage is its signed distance to the capsule's edge clipped to [0, 1] (a one-pixel
ramp), and capsules are composited in order, so later ones are drawn on top. No GPU, no display, no pygame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


def draw_capsules(
    view: View, segments: np.ndarray, radii: np.ndarray, colors: np.ndarray, chunk: int = 128
) -> np.ndarray:
    """Frames (N, H, W, 3) uint8 of N scenes, each S capsules drawn in order.

    segments (N, S, 2, 2): two world end points per capsule; radii (S,) in pixels; colors (S, 3) in 0..255.
    Scenes are rasterised `chunk` at a time to bound memory (chunk × S × H × W floats).
    """
    segments = np.asarray(segments, dtype=np.float64)
    if segments.ndim != 4 or segments.shape[2:] != (2, 2):
        raise ValueError(f"segments must have shape (N, S, 2, 2); got {segments.shape}")
    radii = np.asarray(radii, dtype=np.float32)
    colors = np.asarray(colors, dtype=np.float32)
    n = len(segments)
    out = np.empty((n, view.height, view.width, 3), dtype=np.uint8)
    cols = np.arange(view.width, dtype=np.float32) + 0.5
    rows = np.arange(view.height, dtype=np.float32) + 0.5
    for start in range(0, n, chunk):
        px = view.to_pixels(segments[start : start + chunk]).astype(np.float32)  # (n, S, 2 ends, 2)
        a, b = px[:, :, 0], px[:, :, 1]  # (n, S, 2)
        ab = b - a
        length2 = np.maximum((ab**2).sum(-1), 1e-12)  # (n, S)
        # Offsets of every pixel centre from the first end point, split by axis: (n, S, H, W).
        dx = cols[None, None, None, :] - a[..., 0, None, None]
        dy = rows[None, None, :, None] - a[..., 1, None, None]
        t = np.clip((dx * ab[..., 0, None, None] + dy * ab[..., 1, None, None]) / length2[..., None, None], 0, 1)
        dist = np.hypot(dx - t * ab[..., 0, None, None], dy - t * ab[..., 1, None, None])
        coverage = np.clip(radii[None, :, None, None] + 0.5 - dist, 0.0, 1.0)  # (n, S, H, W)
        image = np.broadcast_to(BACKGROUND, (len(px), view.height, view.width, 3)).copy()
        for s in range(segments.shape[1]):
            alpha = coverage[:, s, :, :, None]
            image += alpha * (colors[s] - image)
        out[start : start + chunk] = np.rint(image).astype(np.uint8)
    return out
