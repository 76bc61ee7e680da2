"""The `animation.gif` of a run: the built-in systems drawn with Pillow (software, no GPU), in real time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from underact.plants.analytic import PARAMS, acrobot_points, pole_tip
from underact.simulate.trajectory import Trajectory

SIZE = 240
FPS = 20


def _points(name: str, q: np.ndarray) -> tuple[list[tuple[float, float]], float | None]:
    """Joint and tip positions in metres (x right, y up) from the pivot, and the cart's x (None without cart)."""
    p = PARAMS[name]()
    if name == "acrobot":
        ex, ey, tx, ty = acrobot_points(p.l1, p.l2, q[0], q[1])
        return [(0.0, 0.0), (ex, ey), (tx, ty)], None
    if name == "cartpole":
        return [(q[0], 0.0), pole_tip(p.l, q[0], q[1])], float(q[0])
    return [(0.0, 0.0), pole_tip(p.l, 0.0, q[0])], None


def _frame(name: str, q: np.ndarray, t: float, scale: float, x_view: float) -> Image.Image:
    img = Image.new("P", (SIZE, SIZE), 0)
    img.putpalette([255, 255, 255, 40, 40, 40, 50, 100, 200, 200, 70, 50, 160, 160, 160] + [0] * 753)
    draw = ImageDraw.Draw(img)
    cx, cy = SIZE / 2, SIZE / 2

    def px(point: tuple[float, float]) -> tuple[float, float]:
        return cx + (point[0] - x_view) * scale, cy - point[1] * scale

    pts, cart = _points(name, q)
    if cart is not None:
        draw.line([(0, cy), (SIZE, cy)], fill=4, width=1)
        x0, y0 = px((cart, 0.0))
        draw.rectangle([x0 - 18, y0 - 9, x0 + 18, y0 + 9], fill=2)
    colors = [2, 3] if name == "acrobot" else [3]
    for i in range(len(pts) - 1):
        draw.line([px(pts[i]), px(pts[i + 1])], fill=colors[i], width=5)
    for point in pts[:-1]:
        x, y = px(point)
        draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=1)
    draw.text((6, 6), f"t = {t:5.2f} s", fill=1)
    return img


def write_gif(name: str, traj: Trajectory, path: str | Path) -> None:
    """Writes a real-time GIF (FPS frames per second) of a built-in system's trajectory."""
    reach = {"acrobot": 3.2, "cartpole": 1.4, "pendulum": 0.7}[name]
    scale = 0.45 * SIZE / reach
    step = max(1, int(round(1.0 / (FPS * np.median(np.diff(traj.t)))))) if len(traj.t) > 1 else 1
    margin = 0.35 * SIZE / scale  # the view follows the cart once it leaves the middle of the frame
    frames = []
    for k in range(0, len(traj.t), step):
        x = float(traj.q[k, 0]) if name == "cartpole" else 0.0
        x_view = x - float(np.clip(x, -margin, margin))
        frames.append(_frame(name, traj.q[k], float(traj.t[k]), scale, x_view))
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=int(1000 / FPS), loop=0, optimize=True)
