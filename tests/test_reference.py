"""Every task is solvable by its textbook controller, through `gymnasium.make`, at the task's own dt."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import underact.envs  # noqa: F401 - registers the ids
from underact.envs import ENV_IDS
from underact.envs.reference import evaluate, reference_controller

STARTS = 100


@pytest.mark.parametrize("env_id", [e for e, (_, task) in ENV_IDS.items() if task == "balance"])
def test_balance_reference_truncates_every_episode(env_id):
    env = gymnasium.make(env_id)
    for seed in range(STARTS):
        obs, _ = env.reset(seed=seed)
        policy = reference_controller(env)
        for step in range(1, 501):
            obs, _, terminated, truncated, _ = env.step(policy(obs))
            assert not terminated, f"{env_id} seed {seed}: fell at step {step}"
            if truncated:
                break
        assert truncated and step == 500


@pytest.mark.parametrize("env_id", [e for e, (_, task) in ENV_IDS.items() if task == "swingup"])
def test_swing_up_reference_beats_the_registered_threshold(env_id):
    returns = evaluate(env_id, episodes=STARTS)
    threshold = gymnasium.spec(env_id).reward_threshold
    assert returns.mean() > threshold, (returns.mean(), threshold)
    assert np.median(returns) > threshold


def test_the_old_balance_criterion_ended_correct_episodes():
    """With the former rule (|θ1 − π| and |θ2| ≤ 0.4) the same LQR falls in most episodes: the task was unfair."""
    env = gymnasium.make("underact/AcrobotBalance-v0")
    policy = reference_controller(env)
    ended = 0
    for seed in range(10):
        obs, _ = env.reset(seed=seed)
        for _ in range(500):
            obs, *_ = env.step(policy(obs))
            th1, th2 = env.unwrapped.state[:2]
            if max(abs((th1 - np.pi + np.pi) % (2 * np.pi) - np.pi), abs((th2 + np.pi) % (2 * np.pi) - np.pi)) > 0.4:
                ended += 1
                break
    assert ended >= 5


def test_other_environments_are_refused_in_one_line():
    with pytest.raises(ValueError, match="reference controllers exist for the underact/"):
        reference_controller(gymnasium.make("CartPole-v1"))
