"""Native vector environments: equal to N single environments step for step, autoreset, seeding, rendering."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import underact.envs
from underact.envs.packed import numpy_step
from underact.envs.vector import UnderactVectorEnv

IDS = list(underact.envs.ENV_IDS)


def make_vec(env_id, n, **kwargs):
    return gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", **kwargs)


@pytest.mark.parametrize("env_id", IDS)
def test_make_vec_gives_the_native_vector_env(env_id):
    vec = make_vec(env_id, 5)
    assert isinstance(vec.unwrapped, UnderactVectorEnv)
    assert vec.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    obs, _ = vec.reset(seed=0)
    assert obs.shape == (5, vec.single_observation_space.shape[0]) and obs.dtype == np.float32
    assert vec.observation_space.contains(obs)
    assert vec.action_space.shape == (5, 1)
    assert vec.unwrapped.dt == gym.make(env_id).unwrapped.dt


@pytest.mark.parametrize("env_id", IDS)
def test_vector_env_equals_n_single_envs_step_for_step(env_id):
    """Same start states, same actions: observations, rewards and flags agree, through autoresets."""
    n, horizon = 6, 25
    vec = make_vec(env_id, n, max_episode_steps=horizon)
    singles = [gym.make(env_id, max_episode_steps=horizon) for _ in range(n)]
    vobs, _ = vec.reset(seed=4)
    for i, env in enumerate(singles):
        obs, _ = env.reset(options={"state": vec.unwrapped.state[i]})
        np.testing.assert_array_equal(obs, vobs[i])
    rng = np.random.default_rng(4)
    limit = vec.single_action_space.high[0]
    done = np.zeros(n, dtype=bool)
    ends = 0
    for _ in range(80):
        actions = rng.uniform(-0.3, 0.3, size=(n, 1)).astype(np.float32) * limit
        vobs, vrew, vterm, vtrunc, _ = vec.step(actions)
        for i, env in enumerate(singles):
            if done[i]:  # NEXT_STEP autoreset: the vector env restarted copy i; restart the single env there
                obs, _ = env.reset(options={"state": vec.unwrapped.state[i]})
                rew, term, trunc = 0.0, False, False
            else:
                obs, rew, term, trunc, _ = env.step(actions[i])
            np.testing.assert_allclose(vobs[i], obs, rtol=1e-6, atol=1e-6)
            np.testing.assert_allclose(vec.unwrapped.state[i], env.unwrapped.state, rtol=1e-12, atol=1e-12)
            assert vrew[i] == pytest.approx(rew, abs=1e-12)
            assert (vterm[i], vtrunc[i]) == (term, trunc)
        done = vterm | vtrunc
        ends += int(done.sum())
    assert ends >= n  # the run went through resets


def test_autoreset_restarts_from_the_task_start_distribution():
    vec = make_vec("underact/CartPoleBalance-v0", 3)
    vec.reset(options={"state": [[0.0, math.pi, 0, 0], [0.0, math.pi + 0.3, 0, 0], [0.0, math.pi, 0, 0]]})
    _, reward, terminated, truncated, _ = vec.step(np.zeros((3, 1)))
    np.testing.assert_array_equal(terminated, [False, True, False])
    assert reward[1] == 1.0
    # The fallen copy's action is ignored, even a non-finite one; it restarts near upright with reward 0.
    obs, reward, terminated, truncated, _ = vec.step(np.array([[0.0], [np.nan], [0.0]]))
    x = vec.unwrapped.state[1]
    assert np.all(np.abs(x - [0.0, math.pi, 0.0, 0.0]) <= 0.05)
    assert reward[1] == 0.0 and not terminated[1] and not truncated[1]
    np.testing.assert_allclose(obs[1], [x[0], math.cos(x[1]), math.sin(x[1]), x[2], x[3]], rtol=1e-6, atol=1e-7)


def test_truncation_after_max_episode_steps():
    vec = make_vec("underact/AcrobotSwingUp-v0", 4)
    vec.reset(seed=0)
    for step in range(1, 501):
        _, _, terminated, truncated, _ = vec.step(np.zeros((4, 1)))
        assert truncated.all() == (step == 500) and not terminated.any()


def test_seeded_vector_runs_are_reproducible():
    def run(seed):
        vec = make_vec("underact/AcrobotBalance-v0", 16, max_episode_steps=10)
        obs, _ = vec.reset(seed=seed)
        trace = [obs]
        rng = np.random.default_rng(0)
        for _ in range(40):
            trace.append(vec.step(rng.uniform(-20, 20, size=(16, 1)))[0])
        return np.array(trace)

    np.testing.assert_array_equal(run(3), run(3))
    assert not np.array_equal(run(3)[0], run(4)[0])


def test_changed_body_in_vector_env_equals_single_env():
    kwargs = {"l2": 2.5, "lc2": 1.25, "m2": 1.5, "actuator_gain": 0.5}
    vec = make_vec("underact/AcrobotSwingUp-v0", 2, **kwargs)
    single = gym.make("underact/AcrobotSwingUp-v0", **kwargs)
    vec.reset(seed=0)
    single.reset(options={"state": vec.unwrapped.state[1]})
    for _ in range(10):
        vec.step(np.full((2, 1), 7.0))
        single.step(np.array([7.0], dtype=np.float32))
    np.testing.assert_allclose(vec.unwrapped.state[1], single.unwrapped.state, atol=1e-12)


def test_bad_actions_and_states_raise():
    vec = make_vec("underact/CartPoleSwingUp-v0", 3)
    vec.reset(seed=0)
    before = vec.unwrapped.state
    with pytest.raises(ValueError, match=r"inf for env 2"):
        vec.step(np.array([[0.0], [1.0], [np.inf]]))
    np.testing.assert_array_equal(vec.unwrapped.state, before)
    with pytest.raises(ValueError, match=r"shape \(3, 1\)"):
        vec.step(np.zeros(5))
    with pytest.raises(ValueError, match=r"\(3, 4\)"):
        vec.reset(options={"state": np.zeros((2, 4))})
    with pytest.raises(ValueError, match="analytic backend only"):
        make_vec("underact/CartPoleSwingUp-v0", 3, backend="mujoco")


def test_vector_render_matches_single_env_frames():
    vec = make_vec("underact/AcrobotSwingUp-v0", 3, render_mode="rgb_array", width=48, height=40)
    vec.reset(seed=2)
    vec.step(np.full((3, 1), 10.0))
    frames = vec.render()
    assert len(frames) == 3
    single = gym.make("underact/AcrobotSwingUp-v0", render_mode="rgb_array", width=48, height=40)
    for i, frame in enumerate(frames):
        single.reset(options={"state": vec.unwrapped.state[i]})
        assert frame.shape == (40, 48, 3) and frame.dtype == np.uint8
        np.testing.assert_array_equal(frame, single.render())
    assert not np.array_equal(frames[0], frames[1])


@pytest.mark.parametrize("env_id", ["underact/AcrobotSwingUp-v0", "underact/CartPoleSwingUp-v0"])
def test_full_constant_input_ends_episodes_instead_of_diverging(env_id):
    """Bang-bang inputs spin the links up; episodes end at max_speed and the state never becomes NaN."""
    vec = make_vec(env_id, 4)
    vec.reset(seed=0)
    limit = vec.single_action_space.high[0]
    ended = np.zeros(4, dtype=bool)
    for _ in range(500):
        _, _, terminated, _, _ = vec.step(np.array([[limit], [-limit], [limit], [-limit]]))
        ended |= terminated
        assert np.all(np.isfinite(vec.unwrapped.state))
    assert ended.all()
    speeds = np.abs(vec.unwrapped.state[:, 2:][:, vec.unwrapped.task.angular_mask])
    assert speeds.max() <= 2 * vec.unwrapped.task.max_speed


def test_per_copy_bodies_equal_single_envs_with_those_bodies():
    lengths, masses, gains = [0.25, 0.5, 1.0], [5.0, 10.0, 20.0], [1.0, 0.5, 0.25]
    vec = make_vec("underact/CartPoleBalance-v0", 3, l=lengths, mc=masses, actuator_gain=gains)
    vec.reset(seed=0)
    singles = []
    for i in range(3):
        env = gym.make("underact/CartPoleBalance-v0", l=lengths[i], mc=masses[i], actuator_gain=gains[i])
        env.reset(options={"state": vec.unwrapped.state[i]})
        singles.append(env)
    actions = np.array([[30.0], [30.0], [30.0]])
    for _ in range(5):
        vobs = vec.step(actions)[0]
        for i, env in enumerate(singles):
            np.testing.assert_allclose(vobs[i], env.step(actions[i].astype(np.float32))[0], atol=1e-6)
    # The longest pole with the weakest push has moved least: the bodies really differ.
    assert len({round(float(s), 6) for s in vec.unwrapped.state[:, 2]}) == 3
    with pytest.raises(ValueError, match="num_envs = 4"):
        make_vec("underact/CartPoleBalance-v0", 4, l=lengths)
    with pytest.raises(ValueError, match="vector environment"):
        gym.make("underact/CartPoleBalance-v0", l=lengths)


def test_what_a_step_hands_out_is_never_overwritten_by_later_steps():
    """The env writes its own state into two alternating preallocated sets; observations, rewards and flags handed
    out are fresh arrays, so a caller may keep them (a replay buffer), and a reset mid-way breaks nothing."""
    vec = make_vec("underact/CartPoleBalance-v0", 8, max_episode_steps=5)
    kept, copies = [], []
    obs, _ = vec.reset(seed=1)
    for t in range(12):
        if t == 7:
            obs, _ = vec.reset(seed=2)
        step = vec.step(np.full((8, 1), 0.5 if t % 2 else -0.5))
        kept.append(step[:4])
        copies.append(tuple(np.copy(a) for a in step[:4]))
        assert not any(np.shares_memory(a, vec.unwrapped._x) for a in step[:4])
    for got, was in zip(kept, copies, strict=True):
        for a, b in zip(got, was, strict=True):
            np.testing.assert_array_equal(a, b)
    # The alternating state still steps as the plain-numpy oracle does from the same state.
    env, u = vec.unwrapped, np.full((8, 1), 0.25)
    x, counts = env._x.copy(), env._counts.copy()
    expected = numpy_step(env.task, x, u, env.actuator_gain, counts[2] != 0, counts[0], 5, env._key, counts[1])
    vec.step(u)
    np.testing.assert_allclose(env._x, expected[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(env._counts[0], expected[5])
    np.testing.assert_array_equal(env._counts[2], expected[6])


@pytest.mark.parametrize("limit", [0, -3, 2**63, 10**30, 2.5, True, "500", np.nan])
def test_time_limits_the_compiled_step_cannot_count_to_are_refused(limit):
    with pytest.raises(ValueError, match="max_episode_steps must be None or an integer"):
        underact.envs.vector.CartPoleVectorEnv(4, task="balance", max_episode_steps=limit)


def test_time_limit_and_gain_changed_between_steps_take_effect_and_are_checked():
    """The compiled step's constants are made once per reset and setting: a change must reach the next step."""
    vec = make_vec("underact/CartPoleBalance-v0", 4)
    env = vec.unwrapped
    vec.reset(seed=0)
    env.max_episode_steps = 3
    flags = [vec.step(np.zeros((4, 1)))[3].all() for _ in range(3)]
    assert flags == [False, False, True]  # truncated at the new limit
    vec.reset(seed=1)
    env.actuator_gain = 0.0  # no force: a full push moves the cart as no push does
    pushed = vec.step(np.ones((4, 1)))[0]
    vec.reset(seed=1)
    env.actuator_gain = 1.0
    np.testing.assert_array_equal(pushed, vec.step(np.zeros((4, 1)))[0])
    assert not np.array_equal(pushed, (vec.reset(seed=1), vec.step(np.ones((4, 1))))[1][0])
    with pytest.raises(ValueError, match="max_episode_steps must be None or an integer"):
        env.max_episode_steps = 2.5
    for bad in (np.nan, np.inf, -1.0, "strong", 1j, [1.0, 2.0], None):
        with pytest.raises(ValueError, match="actuator_gain must be a finite number"):
            env.actuator_gain = bad
    assert env.max_episode_steps == 3 and env.actuator_gain == 1.0  # a refused setting changes nothing
    gains = np.full(4, 2.0)
    env.actuator_gain = gains
    gains[:] = np.nan  # the env holds its own copy, checked when set
    assert np.array_equal(env.actuator_gain, np.full(4, 2.0))
