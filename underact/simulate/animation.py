"""The `animation.gif` of a run: a built-in system's trajectory drawn by the one renderer (`underact.render`).

Frames are taken about every 1/`FPS` seconds of simulated time and the GIF plays at the rate they were taken,
so it runs in real time. The camera of a system on a rail (its record's `follow_x`) follows the first coordinate
once it leaves the middle of the frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from underact.render import builtin_scene, write_gif
from underact.simulate.trajectory import Trajectory
from underact.systems import get

#: Frames per second of simulated time the animation aims for.
FPS = 20


def write_animation(name: str, traj: Trajectory, path: str | Path) -> None:
    """Writes a real-time GIF of built-in `name`'s trajectory (its default parameters) at about `FPS` frames/s."""
    system = get(name)
    scene = builtin_scene(name, system.params())
    width, height = scene.size
    dt = float(np.median(np.diff(traj.t))) if len(traj.t) > 1 else 1.0 / FPS
    stride = max(1, int(round(1.0 / (FPS * dt))))
    q = traj.q[::stride]
    views = [None] * len(q)
    if system.follow_x:
        view = scene.view(width, height)
        margin = 0.35 * width / view.scale  # metres the cart may move from the middle before the camera follows
        x_view = q[:, 0] - np.clip(q[:, 0], -margin, margin)
        views = [scene.view(width, height, (float(x), 0.0)) for x in x_view]
    frames = [scene.render(q[k : k + 1], width, height, views[k])[0] for k in range(len(q))]
    write_gif(path, frames, 1.0 / (stride * dt))
