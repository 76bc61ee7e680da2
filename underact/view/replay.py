"""`write_replay_html`: a trajectory as a Meshcat animation in one offline page (play, pause, scrub).

Positions are replayed through Drake's scene graph whichever backend produced them (the built-ins share one
coordinate order on every backend), at the trajectory's own rate: frame k shows q(t₀ + k/fps), with
fps = (samples − 1) / duration, so the animation lasts exactly as long as the trajectory. Trajectories sampled
faster than `MAX_FPS` are resampled (linear interpolation) to at most `MAX_FPS` frames a second, still spanning
the same duration.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from underact.errors import UnderactError
from underact.view.page import check_html_path, finish, panel, write_page
from underact.view.robot import verdict
from underact.view.scene import ACTUATED, FIXED, PASSIVE, build_scene, frame_camera

#: Most animation frames per second of trajectory (a 12 s swing-up at 100 frames/s is a ~3 MB page).
MAX_FPS = 100.0


def frames(t: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, float]:
    """(positions of each frame (n, nq), frames per second) for samples `q` (N, nq) at increasing times `t` (N,)."""
    t = np.asarray(t, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if t.ndim != 1 or q.ndim != 2 or len(t) != len(q):
        raise UnderactError(f"a replay needs times (N,) and positions (N, nq); got {t.shape} and {q.shape}")
    if len(t) < 2 or not np.all(np.isfinite(t)) or not np.all(np.diff(t) > 0):
        raise UnderactError("a replay needs at least two samples at finite, increasing times")
    if not np.all(np.isfinite(q)):
        raise UnderactError("the trajectory holds non-finite positions (did it diverge?); nothing to replay")
    duration = float(t[-1] - t[0])
    n = min(len(t), math.ceil(duration * MAX_FPS) + 1)
    fps = (n - 1) / duration
    times = t[0] + np.arange(n) / fps
    times[-1] = t[-1]
    if n == len(t) and np.allclose(times, t, rtol=0.0, atol=1e-9 * max(1.0, abs(duration))):
        return q.copy(), fps
    return np.stack([np.interp(times, t, q[:, j]) for j in range(q.shape[1])], axis=1), fps


def write_replay_html(model: str, t, q, path: str | Path, base: str = "auto") -> dict:
    """Writes the trajectory `q` (N, nq; Drake's coordinate order) at times `t` (N,) of `model` (built-in name or
    file) to `path` as a Meshcat animation page; returns the page's record (duration, frames, fps)."""
    target = check_html_path(path, "--html")
    positions, fps = frames(t, q)
    scene = build_scene(model, base, publish_period=1.0 / fps)
    plant = scene.plant
    if positions.shape[1] != plant.num_positions():
        raise UnderactError(f"the trajectory has {positions.shape[1]} positions per sample; {scene.name} in Drake "
                            f"has {plant.num_positions()}")
    context = scene.diagram.CreateDefaultContext()
    plant_context = plant.GetMyMutableContextFromRoot(context)
    scene.visualizer.StartRecording(set_transforms_while_recording=False)
    for k, qk in enumerate(positions):
        context.SetTime((k + 0.25) / fps)  # inside frame k: MeshcatAnimation.frame() floors time · fps
        plant.SetPositions(plant_context, qk)
        scene.diagram.ForcedPublish(context)
    scene.visualizer.StopRecording()
    scene.visualizer.PublishRecording()
    samples = []
    for qk in positions[:: max(1, len(positions) // 20)]:
        samples.append(plant.CreateDefaultContext())
        plant.SetPositions(samples[-1], qk)
    frame_camera(scene, samples)
    duration = (len(positions) - 1) / fps
    heading = f"{scene.name} replay: {duration:.2f} s at {fps:.4g} frames/s"
    lines = [
        f"{scene.name}: {verdict(scene.description)}",
        "play, pause and scrub in the Animation folder of the controls (top right)",
    ]
    legend = [(ACTUATED, "link moved by an actuated joint"), (PASSIVE, "link moved by a passive joint"),
              (FIXED, "link fixed to the world")]
    record = {"kind": "replay", "name": scene.name, "duration": duration, "frames": len(positions), "fps": fps,
              "links": scene.link_status, "geometries": scene.geometry_count}
    write_page(target, finish(scene.meshcat.StaticHtml(), f"underact replay: {scene.name}",
                              panel(heading, legend, lines, scene.warnings), record))
    return record
