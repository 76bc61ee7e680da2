"""Renders one episode of a trained agent to RGB frames and a GIF (for `underact evaluate --render`).

Frames come from the one renderer, `underact.render`, wherever it can draw the scene: underact environments
show their whole scene from a fixed camera (their system's `scene_size`), and Gymnasium's classic-control
CartPole-v1, Acrobot-v1 and Pendulum-v1 are drawn from their state as the matching built-in scene (their own
drawing needs pygame). Any other environment renders itself (`render_mode="rgb_array"`). Runs trained with an
encoder play in the encoder's wrapped environment (one copy of the vector environment); for pixel encoders each
frame shows what the agent saw (its newest frame) beside the scene. The GIF plays at the environment's
`metadata["render_fps"]`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control import AcrobotEnv, CartPoleEnv, PendulumEnv

from underact.agents.backends import EVAL_KEY
from underact.agents.build import make_env_spec, make_net
from underact.agents.config import TrainConfig
from underact.agents.rollout import derived_seed, to_actions
from underact.envs.task import Task
from underact.gl import choose_mujoco_gl
from underact.render import AcrobotScene, CartPoleScene, PendulumScene, write_gif

#: Frames per second of the GIF of an environment whose metadata has no "render_fps".
DEFAULT_FPS = 30.0


def _classic_drawing(base: gym.Env) -> Callable[[], np.ndarray] | None:
    """Draws Gymnasium's classic-control cart-pole, acrobot or pendulum from its state, None for other envs.

    Their angles map onto the built-ins' (0 hanging): the cart-pole's pole angle θ (0 up) is π − θ and its pole
    is 2 · `length` long; the acrobot's angles are the same; the pendulum's θ (0 up) is π + θ.
    """
    if isinstance(base, CartPoleEnv):
        scene, configuration = CartPoleScene(2 * base.length, base.x_threshold), lambda s: [s[0], np.pi - s[2]]
    elif isinstance(base, AcrobotEnv):
        scene, configuration = AcrobotScene(base.LINK_LENGTH_1, base.LINK_LENGTH_2), lambda s: s[:2]
    elif isinstance(base, PendulumEnv):
        scene, configuration = PendulumScene(base.l), lambda s: [np.pi + s[0]]
    else:
        return None
    width, height = scene.size
    return lambda: scene.render(np.array([configuration(base.state)], dtype=np.float64), width, height)[0]


def _drawing(env: gym.Env) -> Callable[[], np.ndarray]:
    """The function drawing `env`'s current frame (see the module docstring)."""
    base = env.unwrapped
    if isinstance(getattr(base, "task", None), Task):  # an underact environment
        width, height = base.task.scene_size
        return lambda: base.task.render(base.state[None], width, height, fixed_camera=True)[0]
    classic = _classic_drawing(base)
    if classic is not None:
        return classic
    if hasattr(base, "mujoco_renderer"):  # Gymnasium's MuJoCo environments: an OpenGL backend, chosen now
        choose_mujoco_gl()
    try:
        env.render()
    except gym.error.DependencyNotInstalled:
        raise ValueError(f"{env.spec.id} cannot render here: a rendering dependency is missing") from None
    return lambda: np.asarray(env.render())


def _play(config: TrainConfig, genome: np.ndarray, seed: int, obs, step, frame, max_frames: int) -> list[np.ndarray]:
    """Frames of one episode with fresh weights: the agent acts on `obs`; `step(outputs [1, out]) -> (obs, done)`
    advances the environment and `frame()` draws it."""
    net = make_net(config)
    terms = net.terms(genome[None, :])
    weights = net.initial_weights(terms, [derived_seed(seed, EVAL_KEY, 2)], 1)
    frames = [frame()]
    done = False
    while not done and len(frames) < max_frames:
        out = net.step(weights, terms, np.asarray(obs, np.float32).reshape(1, 1, -1))
        obs, done = step(out.reshape(1, -1))
        frames.append(frame())
    return frames


def _episode(config: TrainConfig, genome: np.ndarray, seed: int, max_frames: int) -> tuple[list[np.ndarray], float]:
    """The frames of one episode with fresh weights, and the environment's frame rate."""
    if config.encoder is not None:
        return _encoded_episode(config, genome, seed, max_frames)
    env = gym.make(config.env, render_mode="rgb_array", **config.env_kwargs)
    try:
        obs, _ = env.reset(seed=derived_seed(seed, EVAL_KEY, 1))
        frame = _drawing(env)

        def step(out: np.ndarray) -> tuple[np.ndarray, bool]:
            obs, _, terminated, truncated, _ = env.step(to_actions(out, env.action_space)[0])
            return obs, terminated or truncated

        frames = _play(config, genome, seed, obs, step, frame, max_frames)
        return frames, float(env.metadata.get("render_fps", DEFAULT_FPS))
    finally:
        env.close()


def render_episode(config: TrainConfig, genome: np.ndarray, seed: int, max_frames: int = 500) -> list[np.ndarray]:
    """Plays one episode with fresh weights and returns its frames (at most `max_frames`)."""
    return _episode(config, genome, seed, max_frames)[0]


def write_episode_gif(
    path: str | Path, config: TrainConfig, genome: np.ndarray, seed: int, max_frames: int = 500
) -> None:
    """Plays one episode with fresh weights and writes its frames as a GIF at the environment's frame rate,
    atomically (`underact.render.write_gif`; an OSError names `path`)."""
    frames, fps = _episode(config, genome, seed, max_frames)
    write_gif(path, frames, fps)


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


def _encoded_episode(
    config: TrainConfig, genome: np.ndarray, seed: int, max_frames: int
) -> tuple[list[np.ndarray], float]:
    """One episode through the run's encoder (one copy of its wrapped vector environment): frames of the scene
    from a fixed camera, with the agent's own view beside it for pixel (`supcon:`) encoders; and the frame rate."""
    spec = make_env_spec(config)
    spec.env_kwargs = {**spec.env_kwargs, "render_mode": "rgb_array"}
    pixels = config.encoder.startswith("supcon:")
    env = spec.make(1)
    try:
        base = env.unwrapped
        if not isinstance(getattr(base, "task", None), Task):
            raise ValueError(f"{config.env} cannot render here: encoder runs render underact environments only")
        width, height = base.task.scene_size

        def frame() -> np.ndarray:
            scene = base.task.render(base.state, width, height, fixed_camera=True)[0]
            return _side_by_side(scene, base.frames()[0]) if pixels else scene

        def step(out: np.ndarray) -> tuple[np.ndarray, bool]:  # a finished copy is reset on the next step only
            obs, _, terminated, truncated, _ = env.step(to_actions(out, env.single_action_space))
            return obs, bool(terminated[0] or truncated[0])

        obs, _ = env.reset(seed=derived_seed(seed, EVAL_KEY, 1))
        frames = _play(config, genome, seed, obs, step, frame, max_frames)
        return frames, float(env.metadata.get("render_fps", DEFAULT_FPS))
    finally:
        env.close()
