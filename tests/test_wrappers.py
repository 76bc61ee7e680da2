"""Observation wrappers: pixels, history of k observations, hidden velocities; single and vector forms."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import underact.envs  # noqa: F401 - registers the ids
from underact.envs.wrappers import (
    HiddenVelocity,
    ObservationHistory,
    PixelObservation,
    VectorHiddenVelocity,
    VectorObservationHistory,
    VectorPixelObservation,
)


def make_vec(env_id, n, **kwargs):
    return gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", **kwargs)


def test_pixel_observation_is_the_rendered_frame():
    env = PixelObservation(gym.make("underact/CartPoleSwingUp-v0", render_mode="rgb_array", width=32, height=24))
    obs, _ = env.reset(seed=0)
    assert obs.shape == (24, 32, 3) and obs.dtype == np.uint8 and env.observation_space.contains(obs)
    obs, *_ = env.step(np.array([50.0], dtype=np.float32))
    np.testing.assert_array_equal(obs, env.unwrapped.render())
    with pytest.raises(ValueError, match="render_mode='rgb_array'"):
        PixelObservation(gym.make("underact/CartPoleSwingUp-v0"))


@pytest.mark.parametrize(("env_id", "n"), [("underact/AcrobotSwingUp-v0", 4), ("underact/CartPoleBalance-v0", 3)])
def test_hidden_velocity_keeps_position_features_only(env_id, n):
    env = HiddenVelocity(gym.make(env_id))
    obs, _ = env.reset(options={"state": [0.3, 2.9, 1.0, -1.0]})
    assert obs.shape == (n,) and env.observation_space.shape == (n,)
    full = gym.make(env_id).unwrapped.task.observe(np.array([[0.3, 2.9, 1.0, -1.0]]))[0]
    np.testing.assert_array_equal(obs, full[:n])
    assert not np.isin([1.0, -1.0], obs).any()  # the velocities are gone


def test_observation_history_holds_the_last_k_observations():
    env = ObservationHistory(gym.make("underact/AcrobotSwingUp-v0"), k=3)
    twin = gym.make("underact/AcrobotSwingUp-v0")
    obs, _ = env.reset(seed=5)
    first, _ = twin.reset(seed=5)
    np.testing.assert_array_equal(obs, np.stack([first] * 3))
    seen = [first]
    for t in range(5):
        action = np.array([3.0 * t], dtype=np.float32)
        obs, *_ = env.step(action)
        seen.append(twin.step(action)[0])
        expected = ([seen[0]] * 3 + seen)[-3:]
        np.testing.assert_array_equal(obs, np.stack(expected))
        assert env.observation_space.contains(obs)
    with pytest.raises(ValueError, match="positive integer"):
        ObservationHistory(gym.make("underact/AcrobotSwingUp-v0"), k=0)


def test_pixel_history_stacks_frames():
    env = ObservationHistory(PixelObservation(gym.make("underact/AcrobotSwingUp-v0", render_mode="rgb_array")), 2)
    env.reset(options={"state": [math.pi / 2, 0.0, 0.0, 0.0]})
    obs, *_ = env.step(np.zeros(1, dtype=np.float32))
    assert obs.shape == (2, 64, 64, 3) and obs.dtype == np.uint8
    assert not np.array_equal(obs[0], obs[1])  # the arm fell a little between the frames


def test_vector_pixels_equal_single_frames():
    vec = VectorPixelObservation(make_vec("underact/CartPoleSwingUp-v0", 4, render_mode="rgb_array"))
    obs, _ = vec.reset(seed=1)
    obs, *_ = vec.step(np.full((4, 1), 100.0))
    assert obs.shape == (4, 64, 64, 3) and vec.observation_space.contains(obs)
    single = gym.make("underact/CartPoleSwingUp-v0", render_mode="rgb_array")
    for i in range(4):
        single.reset(options={"state": vec.unwrapped.state[i]})
        np.testing.assert_array_equal(obs[i], single.render())


def test_vector_hidden_velocity_and_history_through_autoreset():
    n, k = 3, 4
    vec = VectorObservationHistory(VectorHiddenVelocity(make_vec("underact/CartPoleBalance-v0", n)), k)
    assert vec.observation_space.shape == (n, k, 3)
    obs, _ = vec.reset(options={"state": [[0.0, math.pi, 0, 0], [0.0, math.pi + 0.19, 0, 0], [0.5, math.pi, 0, 0]]})
    history = np.repeat(obs[:, -1:], k, axis=1)
    done = np.zeros(n, dtype=bool)
    restarted = False
    for _ in range(6):
        obs, _, terminated, truncated, _ = vec.step(np.zeros((n, 1)))
        features = vec.unwrapped.task.observe(vec.unwrapped.state)[:, :3]
        np.testing.assert_array_equal(obs[:, -1], features)
        history = np.concatenate([history[:, 1:], features[:, None]], axis=1)
        history[done] = features[done, None]  # copies restarted this step begin a fresh history
        restarted |= done.any()
        np.testing.assert_array_equal(obs, history)
        done = terminated | truncated
    assert restarted
