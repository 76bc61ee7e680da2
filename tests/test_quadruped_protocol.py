"""Najarro & Risi's quadruped protocol (`underact.agents.paper`, `underact.envs.ant.PAPER_PROTOCOL`): the damage,
the distance reward, the burn-in and the fitness penalty, each checked against MuJoCo's own state or an
independent computation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import underact.envs  # noqa: F401 - registers the ids
from underact.agents.build import make_net
from underact.agents.es import OpenAIES, centered_ranks
from underact.agents.paper import AntidiagonalNet, paper_config, protocol_kwargs
from underact.envs.ant import ENV_ID, FRAME_SKIP, LEGS, AntVectorEnv

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "quadruped_morphology.py"


@pytest.mark.parametrize("damage", list(LEGS))
def test_the_damaged_lower_leg_is_a_quarter_of_its_length(damage):
    kwargs = protocol_kwargs()
    intact = gym.make(ENV_ID, **kwargs).unwrapped.model
    broken = gym.make(ENV_ID, damage=damage, **kwargs).unwrapped.model
    g = intact.geom(LEGS[damage][2]).id
    # a capsule's size[1] is its half-length: ant.xml's fromto 0 0 0 → 0.4 ±0.4 0 is 0.566 m, cut to 0.141 m
    assert 2 * intact.geom_size[g, 1] == pytest.approx(np.hypot(0.4, 0.4))
    assert 2 * broken.geom_size[g, 1] == pytest.approx(np.hypot(0.1, 0.1))
    others = np.arange(intact.ngeom) != g
    np.testing.assert_array_equal(broken.geom_size[others], intact.geom_size[others])


def test_the_distance_reward_is_the_torso_displacement_in_mujoco():
    """The torso's x as MuJoCo's last kinematics pass of a step placed it (`data.body("torso").xpos`, what Ant-v5's
    x velocity reads: it trails the joint state `qpos` by one 0.01 s substep)."""
    n, kwargs = 3, {**protocol_kwargs(early_stop=False), "damage": "front_left"}
    kwargs.pop("max_episode_steps")
    vec = AntVectorEnv(n, max_episode_steps=40, **kwargs)
    single = gym.make(ENV_ID, **kwargs, max_episode_steps=40)
    vec.reset(seed=4)
    single.reset(seed=4)
    torso = lambda: np.array([d.body("torso").xpos[0] for d in vec.datas])  # noqa: E731
    start, start_q = torso(), np.array([d.qpos[0] for d in vec.datas])
    rng = np.random.default_rng(1)
    walked = np.zeros(n)
    for _ in range(40):
        actions = rng.uniform(-1, 1, (n, 8)).astype(np.float32)
        before = torso()
        _, reward, terminated, truncated, _ = vec.step(actions)
        np.testing.assert_array_equal(reward, torso() - before)  # metres: no healthy bonus, no costs
        x0 = single.unwrapped.data.body("torso").xpos[0]
        _, r, *_ = single.step(actions[0])
        assert r == single.unwrapped.data.body("torso").xpos[0] - x0 == reward[0]
        walked += reward
        assert not terminated.any()
    assert truncated.all()
    # the return is the distance walked: the last x minus the first, and the joint state's within 1 cm
    np.testing.assert_allclose(walked, torso() - start, atol=1e-12)
    np.testing.assert_allclose(walked, np.array([d.qpos[0] for d in vec.datas]) - start_q, atol=0.01)
    assert np.abs(walked).max() > 0.05  # the ants moved
    vec.close()
    single.close()


def test_the_burn_in_runs_physics_without_plasticity():
    kwargs = {**protocol_kwargs(), "damage": "front_right"}
    env = gym.make(ENV_ID, **kwargs)
    config = paper_config("ABCD_lr", 0, 2, 1)
    net = make_net(config)
    # A = B = C = 0, D = η = 1: every Hebbian update adds exactly 1 to every weight
    genome = np.zeros(net.num_params, np.float32)
    for block in net.layout():
        if block.coefficient in ("D", "eta"):
            genome[block.offset : block.offset + block.shape[0] * block.shape[1]] = 1.0
    terms = net.terms(genome[None])
    weights = net.initial_weights(terms, [7], 1)
    fresh = [w.copy() for w in weights]
    obs, _ = env.reset(seed=3)
    data = env.unwrapped.data
    # MuJoCo's clock: 13 steps of 5 × 0.01 s ran before the first observation, with zero controls
    assert data.time == pytest.approx(13 * FRAME_SKIP * env.unwrapped.model.opt.timestep)
    np.testing.assert_array_equal(data.ctrl, 0.0)
    assert all(np.abs(w).max() <= 0.1 for w in weights)  # the agent's first weights are the fresh U(-0.1, 0.1)
    steps = 5
    for _ in range(steps):
        out = net.step(weights, terms, np.asarray(obs, np.float32).reshape(1, 1, -1))
        obs, *_ = env.step(out.reshape(-1))
    assert data.time == pytest.approx((13 + steps) * FRAME_SKIP * env.unwrapped.model.opt.timestep)
    for w, w0 in zip(weights, fresh, strict=True):  # 5 updates, not 18: none during the burn-in
        np.testing.assert_allclose(w - w0, steps, atol=1e-5)
    env.close()


def test_the_fitness_penalty_is_included_in_the_es_update():
    config = paper_config("ABCD_lr", 0, 6, 1)
    settings = config.es_config()
    assert (settings.penalty, settings.rank_std, settings.optimizer, settings.init_std) == (0.01, True, "plain", 1.0)
    es = OpenAIES(40, settings)
    center, sigma, lr = es.center.copy(), es.sigma, es.lr
    genomes = es.ask().astype(np.float64)
    returns = np.array([1.0, 1.0, 2.0, 2.0, 3.0, 3.0])  # mirrored pairs tie on return: the penalty ranks them
    es.tell(returns)
    fitness = returns - 0.01 * np.mean(genomes**2, axis=1)
    ranks = centered_ranks(fitness)
    eps = (genomes - center) / sigma
    expected = center + lr * (ranks / ranks.std()) @ eps / (6 * sigma)
    np.testing.assert_allclose(es.center, expected, rtol=1e-5, atol=1e-6)
    without = OpenAIES(40, settings.__class__(**{**settings.__dict__, "penalty": 0.0}))
    without.ask()
    without.tell(returns)
    assert not np.allclose(without.center, es.center)  # the penalty changed the step
    assert (es.sigma, es.lr) == pytest.approx((0.1 * 0.999, 0.2 * 0.995))


def test_antidiagonal_sharing_gives_one_rule_per_anti_diagonal():
    config = paper_config("ABCD_lr", 0, 2, 1, rule_sharing="antidiagonal")
    net = make_net(config)
    assert isinstance(net, AntidiagonalNet)
    assert net.num_params == 5 * 416  # (27+128-1) + (128+64-1) + (64+8-1) rules; PyBullet's 28 inputs: 417
    genome = np.random.default_rng(0).normal(size=(1, net.num_params)).astype(np.float32)
    a = net.terms(genome)[0].a[0, 0]  # η·A of layer 1, (128, 27)
    assert a[3, 5] == a[5, 3] == a[0, 8] and a[3, 5] != a[3, 6]


def test_help_and_bad_options_are_one_line():
    ok = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "--protocol" in ok.stdout
    bad = subprocess.run([sys.executable, str(SCRIPT), "--hidden", "8"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "belongs to --protocol ant-v5" in bad.stderr and "Traceback" not in bad.stderr
    odd = subprocess.run([sys.executable, str(SCRIPT), "--population", "5", "--no-gif"], capture_output=True,
                         text=True, timeout=60)
    assert odd.returncode == 2 and "antithetic" in odd.stderr and "Traceback" not in odd.stderr
