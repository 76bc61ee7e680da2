"""The damaged quadruped (`underact/AntDamaged-v0`), its threaded vector environment, and training over bodies."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import mujoco
import numpy as np
import pytest

import underact.envs  # noqa: F401 - registers the ids
from underact.agents.backends import make_backend
from underact.agents.build import make_net
from underact.agents.config import TrainConfig
from underact.agents.paper import PAPER_STUMP
from underact.agents.rollout import EnvSpec, PopulationEvaluator
from underact.agents.trainer import train
from underact.envs.ant import ENV_ID, LEGS, PAPER_PROTOCOL, AntVectorEnv, ant_model

TINY = {"max_episode_steps": 12}


def _geom_world_center(model: mujoco.MjModel, name: str) -> np.ndarray:
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    return data.geom(name).xpos.copy()


@pytest.mark.parametrize("damage", list(LEGS))
def test_damage_shortens_exactly_that_lower_leg_and_scales_its_motors(damage):
    intact, broken = ant_model(None), ant_model(damage, stump=0.5, motor_gain=0.25)
    hip, ankle, geom = LEGS[damage]
    g = intact.geom(geom).id
    # same joints and motors: the network sizes do not change
    assert (broken.nq, broken.nv, broken.nu, broken.ngeom, broken.nbody) == (
        intact.nq, intact.nv, intact.nu, intact.ngeom, intact.nbody
    )
    # the lower segment's capsule keeps half its half-length; every other geom is unchanged
    assert broken.geom_size[g, 1] == pytest.approx(0.5 * intact.geom_size[g, 1])
    assert intact.geom_size[g, 1] == pytest.approx(np.hypot(0.4, 0.4) / 2)
    others = np.arange(intact.ngeom) != g
    np.testing.assert_array_equal(broken.geom_size[others], intact.geom_size[others])
    assert np.linalg.norm(broken.geom_pos[g]) == pytest.approx(0.5 * np.linalg.norm(intact.geom_pos[g]))
    assert broken.body_mass[intact.geom_bodyid[g]] < intact.body_mass[intact.geom_bodyid[g]]
    # the leg stands in front (+x, the walking direction), on its side (+y is left)
    x, y, _ = _geom_world_center(intact, geom)
    assert x > 0 and (y > 0) == (damage == "front_left")
    # only that leg's two motors are weaker
    gear = {intact.joint(intact.actuator_trnid[i, 0]).name: broken.actuator_gear[i, 0] for i in range(intact.nu)}
    assert {j for j, v in gear.items() if v != 150.0} == {hip, ankle}
    assert gear[hip] == gear[ankle] == pytest.approx(37.5)


def test_vector_env_equals_single_envs_step_for_step():
    n, seed = 3, 11
    vec = gym.make_vec(ENV_ID, n, "vector_entry_point", damage="front_right", threads=2, **TINY)
    singles = [gym.make(ENV_ID, damage="front_right", **TINY) for _ in range(n)]
    obs, _ = vec.reset(seed=seed)
    np.testing.assert_array_equal(obs, np.stack([e.reset(seed=seed + i)[0] for i, e in enumerate(singles)]))
    rng = np.random.default_rng(0)
    done = np.zeros(n, dtype=bool)
    resets = 0
    for _ in range(30):  # past two truncations: the autoresets must match too
        actions = rng.uniform(-1, 1, (n, 8)).astype(np.float32)
        obs, reward, terminated, truncated, _ = vec.step(actions)
        for i, env in enumerate(singles):
            if done[i]:
                expected = (env.reset()[0], 0.0, False, False)
            else:
                expected = env.step(actions[i])[:4]
            np.testing.assert_array_equal(obs[i], expected[0])
            assert (reward[i], terminated[i], truncated[i]) == tuple(expected[1:4])
        resets += int(done.sum())
        done = terminated | truncated
    assert resets >= n  # every copy was reset at least once
    vec.close()


def _config(**kw) -> TrainConfig:
    base = dict(env=ENV_ID, hidden=(4,), population=2, generations=2, episodes=1, eval_episodes=2, env_kwargs=TINY,
                target_return="none")
    return TrainConfig(**{**base, **kw})


def test_fitness_over_morphologies_is_the_mean_over_bodies():
    bodies = [{"damage": None}, {"damage": "front_right"}]
    genomes = np.random.default_rng(0).normal(0, 0.5, (2, make_net(_config()).num_params)).astype(np.float32)
    both = make_backend(_config(morphologies=bodies), 2)
    each = [make_backend(_config(env_kwargs={**TINY, **b}), 2) for b in bodies]
    try:
        returns, steps = both.evaluate(genomes, 0)
        parts = [backend.evaluate(genomes, 0) for backend in each]
    finally:
        for backend in (both, *each):
            backend.close()
    assert returns.shape == (2, 2)
    np.testing.assert_array_equal(returns, np.concatenate([r for r, _ in parts], axis=1))
    np.testing.assert_allclose(returns.mean(axis=1), np.mean([r.mean(axis=1) for r, _ in parts], axis=0))
    assert steps == sum(s for _, s in parts)
    assert not np.array_equal(parts[0][0], parts[1][0])  # the bodies really differ


def test_seeded_two_generation_run_over_bodies_is_reproducible(tmp_path):
    config = _config(morphologies=[{"damage": None}, {"damage": "front_right"}])
    runs = [train(config, out=tmp_path / name, progress=False) for name in ("a", "b")]
    rows = [(tmp_path / name / "metrics.csv").read_text().splitlines() for name in ("a", "b")]
    drop_wall = [[",".join(c for j, c in enumerate(line.split(",")) if j != 5) for line in r] for r in rows]
    assert drop_wall[0] == drop_wall[1] and len(drop_wall[0]) == 3
    assert runs[0]["eval_mean_return"] == runs[1]["eval_mean_return"]
    assert runs[0]["env_steps"] == 2 * (2 + 4) * 2 * TINY["max_episode_steps"]  # no ant falls in 12 steps


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"damage": "rear_left"}, "damage must be None, 'front_left' or 'front_right'; got 'rear_left'"),
        ({"damage": "front_left", "stump": 0.0}, "stump must be a finite number in (0, 1]; got 0.0"),
        ({"damage": "front_left", "motor_gain": -1.0}, "motor_gain must be a finite number >= 0; got -1.0"),
        ({"motor_gain": 0.5}, "stump and motor_gain change the damaged leg; give damage="),
    ],
)
def test_bad_damage_arguments_are_one_line_errors(kwargs, message):
    for make in (lambda: gym.make(ENV_ID, **kwargs), lambda: gym.make_vec(ENV_ID, 2, "vector_entry_point", **kwargs)):
        with pytest.raises(ValueError) as info:
            make()
        assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("bodies", "message"),
    [
        ('[{"damage": "left"}]', "could not make the environment with {'damage': 'left'}: damage must be None"),
        ('{"damage": null}', "argument --morphologies: must be a JSON list of objects"),
    ],
)
def test_cli_refuses_bad_morphologies_in_one_line(tmp_path, bodies, message):
    proc = subprocess.run(
        [sys.executable, "-m", "underact.cli", "train", "--env", ENV_ID, "--morphologies", bodies,
         "--out", str(tmp_path / "run"), "--quiet"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert not (tmp_path / "run").exists()


def test_population_slices_match_the_whole_population():
    """As on Ray workers: slices build only their own copies (seeds shifted) and give the same returns."""
    config = _config(population=4)
    net = make_net(config)
    evaluator = PopulationEvaluator(EnvSpec(ENV_ID, TINY), net, 4, 2, seed=3)
    genomes = np.random.default_rng(1).normal(0, 0.5, (4, net.num_params)).astype(np.float32)
    try:
        whole, _ = evaluator.evaluate(genomes, 0, 5)
        parts = [evaluator.evaluate(genomes[a:b], a, 5)[0] for a, b in ((0, 1), (1, 4))]
        assert sorted(evaluator._envs) == [2, 6, 8]  # no slice stepped the whole population
    finally:
        evaluator.close()
    np.testing.assert_array_equal(whole, np.concatenate(parts))


def test_idle_copies_are_left_alone_and_the_others_do_not_notice():
    """`AntVectorEnv.idle` (used by population rollouts for finished episodes): an idle copy neither moves nor
    resets and reports reward 0; the other copies step exactly as without it; it resumes when no longer idle."""
    n, seed = 3, 5
    plain = gym.make_vec(ENV_ID, n, "vector_entry_point", threads=2, **TINY)
    lazy = gym.make_vec(ENV_ID, n, "vector_entry_point", threads=2, **TINY)
    plain.reset(seed=seed)
    obs0, _ = lazy.reset(seed=seed)
    actions = np.random.default_rng(1).uniform(-1, 1, (6, n, 8))
    lazy.unwrapped.idle = np.array([False, True, False])
    for a in actions[:3]:
        want = plain.step(a)
        got = lazy.step(a)
        for i in (0, 2):
            np.testing.assert_array_equal(got[0][i], want[0][i])
            assert (got[1][i], got[2][i], got[3][i]) == (want[1][i], want[2][i], want[3][i])
        np.testing.assert_array_equal(got[0][1], obs0[1])
        assert (got[1][1], got[2][1], got[3][1]) == (0.0, False, False)
    lazy.unwrapped.idle = None
    obs, reward, *_ = lazy.step(actions[3])
    assert not np.array_equal(obs[1], obs0[1]) and reward[1] != 0.0
    with pytest.raises(ValueError, match="idle must be None or 3 booleans"):
        lazy.unwrapped.idle = np.zeros(2, dtype=bool)
        lazy.step(actions[4])


PAPER = {k: v for k, v in PAPER_PROTOCOL.items() if k != "max_episode_steps"}


def test_paper_protocol_vector_env_equals_single_envs_through_early_stops():
    """Distance reward, clipped observation, burn-in and early stop: copy i equals a single environment, through
    each copy's early stop and autoreset; every stop is the rule applied to MuJoCo's own torso height and rewards."""
    n, seed, limit = 4, 2, 120
    kwargs = {**PAPER, "damage": "front_left", "stump": PAPER_STUMP}
    vec = AntVectorEnv(n, max_episode_steps=limit, threads=2, **kwargs)
    singles = [gym.make(ENV_ID, max_episode_steps=limit, **kwargs) for _ in range(n)]
    obs, _ = vec.reset(seed=seed)
    np.testing.assert_array_equal(obs, np.stack([e.reset(seed=seed + i)[0] for i, e in enumerate(singles)]))
    after, patience, fall_z = PAPER["early_stop"]
    rng = np.random.default_rng(3)
    done = np.zeros(n, dtype=bool)
    t, negative, stops = np.zeros(n, dtype=int), np.zeros(n, dtype=int), 0
    for _ in range(200):
        actions = rng.uniform(-1, 1, (n, 8)).astype(np.float32)
        obs, reward, terminated, truncated, _ = vec.step(actions)
        assert np.abs(obs).max() <= 5.0
        for i, env in enumerate(singles):
            expected = (env.reset()[0], 0.0, False, False) if done[i] else env.step(actions[i])[:4]
            np.testing.assert_array_equal(obs[i], expected[0])
            assert (reward[i], terminated[i], truncated[i]) == tuple(expected[1:4])
        # the rule, from MuJoCo's state: past `after` steps, a fall or `patience` negative steps in a row
        z = np.array([d.qpos[2] for d in vec.unwrapped.datas])
        t = np.where(done, 0, t + 1)
        negative = np.where(done, 0, np.where(t > after, np.where(reward < 0, negative + 1, 0), negative))
        want = ~done & (t > after) & ((z < fall_z) | (negative >= patience))
        np.testing.assert_array_equal(terminated, want)
        stops += int(terminated.sum())
        done = terminated | truncated
    assert stops >= 2  # random actions stall: the rule fired
    vec.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reward": "speed"}, "reward must be 'ant-v5' or 'distance'; got 'speed'"),
        ({"obs_clip": -1.0}, "obs_clip must be None or a finite number > 0; got -1.0"),
        ({"burn_in": 2.5}, "burn_in must be a whole number of steps in [0, 1e6]; got 2.5"),
        ({"early_stop": (66, 0, 0.26)}, "early_stop must be None or (after_steps >= 0, negative_steps >= 1, fall_z)"),
    ],
)
def test_bad_protocol_arguments_are_one_line_errors(kwargs, message):
    for make in (lambda: gym.make(ENV_ID, **kwargs), lambda: gym.make_vec(ENV_ID, 2, "vector_entry_point", **kwargs)):
        with pytest.raises(ValueError) as info:
            make()
        assert message in str(info.value) and "\n" not in str(info.value)
