"""The one renderer: planar scenes drawn in numpy as anti-aliased capsules, batched over states, and GIF files.

Everything underact draws (the environments' frames, `underact simulate`'s animation.gif, `underact evaluate
--render`) is a capsule: a segment between two world points with a radius in pixels. A pixel's coverage is its
signed distance to the capsule's edge clipped to [0, 1] (a one-pixel ramp), and capsules are composited in order,
so later ones are drawn on top. No GPU, no display, no pygame: a numba-compiled loop (compiled on first use, cached
next to this file) visits only each capsule's bounding box.

The planar scenes (acrobot links, cart-pole rail, ticks, cart and pole, pendulum) are `Scene`s built from
physical parameters with the systems' forward kinematics; each system's record (`underact.systems`) says which it
draws; `write_gif` writes frames at a given frame rate, atomically (`underact.files.replacing`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

import underact.compiling  # noqa: F401 - announces the first compilation of the kernels
from underact.files import replacing
from underact.systems.acrobot import acrobot_points
from underact.systems.cartpole import pole_tip

BACKGROUND = np.array([255, 255, 255], dtype=np.float32)
#: The cart-pole rail's ticks: metres between them, metres above and below the rail, colour.
TICK_SPACING = 0.3
TICK_HEIGHT = 0.06
TICK_COLOR = np.array([110, 110, 110], dtype=np.float32)


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


class Scene(ABC):
    """A built-in system's drawing: capsules from configurations q (N, nq), in drawing order, and a camera.

    `radii` (S,) are in pixels at 64 × 64 (scaled with a frame's smaller side), `colors` (S, 3) in 0..255; `span`
    is the (width, height) in metres a frame shows at least; `size` the (width, height) in pixels of a frame that
    shows the whole scene well (videos).
    """

    radii: np.ndarray
    colors: np.ndarray
    span: tuple[float, float]
    size: tuple[int, int] = (240, 240)

    @abstractmethod
    def segments(self, q: np.ndarray) -> np.ndarray:
        """Capsules (N, S, 2, 2) in metres, x right and y up, of configurations q (N, nq)."""

    def view(self, width: int, height: int, center: tuple[float, float] = (0.0, 0.0)) -> View:
        """The camera showing `span` around `center` in a width × height frame."""
        return View(center, min(width / self.span[0], height / self.span[1]), width, height)

    def render(self, q: np.ndarray, width: int, height: int, view: View | None = None) -> np.ndarray:
        """Frames (N, height, width, 3) uint8 of configurations q (N, nq) (`view`: another camera)."""
        radii = self.radii * min(width, height) / 64.0
        return draw_capsules(view or self.view(width, height), self.segments(q), radii, self.colors)


class AcrobotScene(Scene):
    """Two links from a fixed shoulder (q = (θ1, θ2), θ2 relative, 0 hanging) and the shoulder's pin."""

    radii = np.array([2.0, 2.0, 1.5])
    colors = np.array([[40, 90, 200], [205, 75, 50], [30, 30, 30]], dtype=np.float32)

    def __init__(self, l1, l2):
        self.l1, self.l2 = l1, l2  # floats, or one value per copy
        reach = 1.1 * float(np.max(l1 + l2))
        self.span = (2 * reach, 2 * reach)

    def segments(self, q):
        ex, ey, tx, ty = acrobot_points(self.l1, self.l2, q[:, 0], q[:, 1])
        elbow, tip, origin = np.stack([ex, ey], 1), np.stack([tx, ty], 1), np.zeros((len(q), 2))
        return np.stack(
            [np.stack([origin, elbow], 1), np.stack([elbow, tip], 1), np.stack([origin, origin], 1)], axis=1
        )


class CartPoleScene(Scene):
    """A rail of ±x_limit with ticks every `TICK_SPACING`, the cart, its pole (q = (x, θ), θ = 0 hanging) and pin."""

    size = (320, 160)

    def __init__(self, length, x_limit: float):
        self.length, self.x_limit = length, float(x_limit)  # pole length: a float, or one value per copy
        n_ticks = 2 * int(np.floor(self.x_limit / TICK_SPACING)) + 1
        self.ticks = TICK_SPACING * (np.arange(n_ticks) - n_ticks // 2)
        # rail, its ticks, cart, pole, pin
        self.radii = np.concatenate([[0.6], np.full(n_ticks, 0.6), [1.8, 1.2, 0.9]])
        base = np.array([[170, 170, 170], [60, 60, 60], [205, 75, 50], [30, 30, 30]], dtype=np.float32)
        self.colors = np.insert(base, 1, np.tile(TICK_COLOR, (n_ticks, 1)), axis=0)
        longest = float(np.max(length))
        self.span = (2 * (self.x_limit + max(longest, 0.25) + 0.1), 2.2 * longest)

    def segments(self, q):
        n = len(q)
        cart = np.stack([q[:, 0], np.zeros(n)], axis=1)
        tip = np.stack(pole_tip(self.length, q[:, 0], q[:, 1]), axis=1)
        half = 0.25 * np.array([1.0, 0.0])
        rail = np.broadcast_to(np.array([[-self.x_limit, 0.0], [self.x_limit, 0.0]]), (n, 2, 2))
        ticks = np.zeros((n, len(self.ticks), 2, 2))
        ticks[..., 0] = self.ticks[None, :, None]
        ticks[:, :, 0, 1], ticks[:, :, 1, 1] = -TICK_HEIGHT, TICK_HEIGHT
        parts = [np.stack([cart - half, cart + half], 1), np.stack([cart, tip], 1), np.stack([cart, cart], 1)]
        return np.concatenate([rail[:, None], ticks, np.stack(parts, axis=1)], axis=1)


class PendulumScene(Scene):
    """A pole on a fixed pin (q = (θ,), 0 hanging) and the pin."""

    radii = np.array([1.2, 0.9])
    colors = np.array([[205, 75, 50], [30, 30, 30]], dtype=np.float32)

    def __init__(self, length):
        self.length = length
        reach = 1.1 * float(np.max(length))
        self.span = (2 * reach, 2 * reach)

    def segments(self, q):
        origin = np.zeros((len(q), 2))
        tip = np.stack(pole_tip(self.length, 0.0, q[:, 0]), axis=1)
        return np.stack([np.stack([origin, tip], 1), np.stack([origin, origin], 1)], axis=1)


def builtin_scene(name: str, params, x_limit: float = 2.4) -> Scene:
    """The scene of system `name` (`underact.systems`) with physical parameters `params` (its params class or
    per-copy ones); `x_limit` is a rail's half length, for systems that have one."""
    from underact.systems import get

    return get(name).scene(params, x_limit=x_limit)


def write_gif(path: str | Path, frames: Sequence[np.ndarray], fps: float) -> None:
    """Writes frames (each (H, W, 3) uint8) as a looping GIF shown at `fps` frames per second, atomically.

    GIF stores frame times in hundredths of a second, so the time per frame is 1/fps rounded to 10 ms (at
    least 20 ms: browsers slow shorter frames down to 100 ms). An OSError names `path`.
    """
    from PIL import Image

    if len(frames) == 0:
        raise ValueError(f"no frames to write to {path}")
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number; got {fps!r}")
    duration = max(20, 10 * round(100 / fps))
    images = [Image.fromarray(np.asarray(frame, dtype=np.uint8)) for frame in frames]
    with replacing(path) as tmp, open(tmp, "wb") as f:
        images[0].save(f, format="GIF", save_all=True, append_images=images[1:], duration=duration, loop=0)
