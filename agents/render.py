"""Renders one episode of a trained agent to RGB frames (for `underact evaluate --render`).

The environment's own `rgb_array` rendering is used. Gymnasium's classic-control cart-pole needs pygame to
render; without it, its frames are drawn here in numpy from the state (cart, pole, track). Runs trained with an
encoder play in the encoder's wrapped environment (one copy of the vector environment); each frame shows the
whole scene from a fixed camera and, for pixel encoders, what the agent saw (its newest frame) beside it.
"""

from __future__ import annotations

import os

import gymnasium as gym
import numpy as np
import torch

from underact.agents.rollout import derived_seed, to_actions
from underact.agents.trainer import EVAL_KEY, TrainConfig


def draw_cartpole(x: float, theta: float, pole_half_length: float = 0.5, size: int = 200) -> np.ndarray:
    """An RGB frame [size, 1.5·size, 3] of a cart at x (m) with its pole at angle theta (rad, 0 = up)."""
    h, w = size, int(1.5 * size)
    img = np.full((h, w, 3), 255, dtype=np.uint8)
    scale = w / 4.8  # the track spans x ∈ [−2.4, 2.4]
    ground = int(0.7 * h)
    img[ground, :] = 0
    cx = int(w / 2 + x * scale)
    cart_w, cart_h = int(0.12 * w), int(0.06 * h)
    img[max(ground - cart_h, 0) : ground, max(cx - cart_w // 2, 0) : max(min(cx + cart_w // 2, w), 0)] = (40, 40, 40)
    pivot_y = ground - cart_h
    s = np.linspace(0.0, 2 * pole_half_length * scale, 200)
    px = (cx + s * np.sin(theta)).astype(int)
    py = (pivot_y - s * np.cos(theta)).astype(int)
    for dx in (-2, -1, 0, 1, 2):
        ok = (px + dx >= 0) & (px + dx < w) & (py >= 0) & (py < h)
        img[py[ok], px[ok] + dx] = (202, 152, 101)
    return img


def _frame(env: gym.Env, fallback: bool) -> np.ndarray:
    if not fallback:
        return np.asarray(env.render())
    base = env.unwrapped
    return draw_cartpole(float(base.state[0]), float(base.state[2]), float(base.length))


def _play(config: TrainConfig, genome: np.ndarray, seed: int, obs, step, frame, max_frames: int) -> list[np.ndarray]:
    """Frames of one episode with fresh weights: the agent acts on `obs`; `step(outputs [1, out]) -> (obs, done)`
    advances the environment and `frame()` draws it."""
    net = config.net()
    with torch.no_grad():
        terms = net.terms(torch.from_numpy(genome[None, :].astype(np.float32)))
        gen = torch.Generator().manual_seed(derived_seed(seed, EVAL_KEY, 2))
        weights = net.initial_weights(terms, [gen], 1)
        frames = [frame()]
        done = False
        while not done and len(frames) < max_frames:
            out = net.step(weights, terms, torch.from_numpy(np.asarray(obs, np.float32)).view(1, 1, -1))
            obs, done = step(out.reshape(1, -1).numpy())
            frames.append(frame())
    return frames


def render_episode(config: TrainConfig, genome: np.ndarray, seed: int, max_frames: int = 500) -> list[np.ndarray]:
    """Plays one episode with fresh weights and returns its frames (at most `max_frames`)."""
    if config.encoder is not None:
        return _render_encoded(config, genome, seed, max_frames)
    os.environ.setdefault("MUJOCO_GL", "osmesa")  # software rendering for MuJoCo tasks (read at first import)
    os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
    env = gym.make(config.env, render_mode="rgb_array", **config.env_kwargs)
    try:
        obs, _ = env.reset(seed=derived_seed(seed, EVAL_KEY, 1))
        fallback = False
        try:
            env.render()
        except gym.error.DependencyNotInstalled:
            if not hasattr(env.unwrapped, "length") or not hasattr(env.unwrapped, "state"):
                raise ValueError(f"{config.env} cannot render here: a rendering dependency is missing") from None
            fallback = True

        def step(out: np.ndarray) -> tuple[np.ndarray, bool]:
            obs, _, terminated, truncated, _ = env.step(to_actions(out, env.action_space)[0])
            return obs, terminated or truncated

        return _play(config, genome, seed, obs, step, lambda: _frame(env, fallback), max_frames)
    finally:
        env.close()


def _side_by_side(scene: np.ndarray, seen: np.ndarray, gap: int = 6) -> np.ndarray:
    """`scene` with `seen` (the agent's frame) scaled up by an integer factor to at most its height, on its right."""
    factor = max(1, scene.shape[0] // seen.shape[0])
    big = np.repeat(np.repeat(seen, factor, axis=0), factor, axis=1)
    height = max(scene.shape[0], big.shape[0])
    canvas = np.full((height, scene.shape[1] + gap + big.shape[1], 3), 255, dtype=np.uint8)
    canvas[: scene.shape[0], : scene.shape[1]] = scene
    top = (height - big.shape[0]) // 2
    canvas[top : top + big.shape[0], scene.shape[1] + gap :] = big
    return canvas


def _render_encoded(config: TrainConfig, genome: np.ndarray, seed: int, max_frames: int) -> list[np.ndarray]:
    """One episode through the run's encoder (one copy of its wrapped vector environment): frames of the scene
    from a fixed camera, with the agent's own view beside it for pixel (`supcon:`) encoders."""
    spec = config.env_spec()
    spec.env_kwargs = {**spec.env_kwargs, "render_mode": "rgb_array"}
    pixels = config.encoder.startswith("supcon:")
    env = spec.make(1)
    try:
        base = env.unwrapped
        if not hasattr(base, "system"):
            raise ValueError(f"{config.env} cannot render here: encoder runs render underact environments only")
        width, height = base.system.scene_size

        def frame() -> np.ndarray:
            scene = base.system.render(base.state, width, height, fixed_camera=True)[0]
            return _side_by_side(scene, base.frames()[0]) if pixels else scene

        def step(out: np.ndarray) -> tuple[np.ndarray, bool]:  # a finished copy is reset on the next step only
            obs, _, terminated, truncated, _ = env.step(to_actions(out, env.single_action_space))
            return obs, bool(terminated[0] or truncated[0])

        obs, _ = env.reset(seed=derived_seed(seed, EVAL_KEY, 1))
        return _play(config, genome, seed, obs, step, frame, max_frames)
    finally:
        env.close()
