"""The compiled population rollout on our own environments against the step-by-step vector-environment path: the
same physics and episode logic exactly, the same networks to float32 rounding, reproducible for any thread count
and slicing, and the vector environment's own refusals."""

import numpy as np
import pytest

import underact.envs  # noqa: F401 - registers the ids
from underact.agents import kernels
from underact.agents.hebbian import PlasticNet
from underact.agents.rollout import EnvSpec, PopulationEvaluator
from underact.errors import DivergenceError

IDS = ["underact/CartPoleBalance-v0", "underact/AcrobotSwingUp-v0", "underact/CartPoleSwingUp-v0"]


def _both(env_id, net, genomes, episodes=3, generation=1, **kwargs):
    results = []
    for compiled in (False, True):
        ev = PopulationEvaluator(EnvSpec(env_id, kwargs), net, len(genomes), episodes, seed=5, compiled=compiled)
        results.append(ev.evaluate(genomes, 0, generation))
        ev.close()
    return results


@pytest.mark.parametrize("env_id", IDS)
def test_passive_bodies_play_exactly_the_step_by_step_episodes(env_id):
    """Zero weights: zero force, so the returns and episode ends are the physics and the episode logic alone."""
    sizes = (6 if "Acrobot" in env_id else 5, 4, 1)
    net = PlasticNet(sizes, "static")
    genomes = np.zeros((3, net.num_params), np.float32)
    (ref, ref_steps), (got, steps) = _both(env_id, net, genomes, max_episode_steps=120)
    np.testing.assert_array_equal(got, ref)
    assert steps == ref_steps and ref.std() > 0  # the start states differ


@pytest.mark.parametrize("env_id", IDS)
def test_plastic_networks_play_the_same_episodes(env_id):
    net = PlasticNet((6 if "Acrobot" in env_id else 5, 16, 8, 1), "ABCD_lr")
    genomes = np.random.default_rng(2).normal(0, 0.3, (4, net.num_params)).astype(np.float32)
    (ref, ref_steps), (got, steps) = _both(env_id, net, genomes, max_episode_steps=40)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
    assert steps == ref_steps and np.ptp(ref) > 0


def test_reproducible_for_any_thread_count_and_slicing():
    net = PlasticNet((5, 24, 9, 1), "ABCD_lr")
    genomes = np.random.default_rng(3).normal(0, 0.2, (6, net.num_params)).astype(np.float32)
    ev = PopulationEvaluator(EnvSpec("underact/CartPoleBalance-v0"), net, 6, 5, seed=1)
    assert ev.compiled
    kernels.use_threads(1)
    whole, steps = ev.evaluate(genomes, 0, 2)
    kernels.use_threads(2)
    again, steps2 = ev.evaluate(genomes, 0, 2)
    part, _ = ev.evaluate(genomes[1:4], 1, 2)
    kernels.use_threads(1)
    ev.close()
    assert np.array_equal(whole, again) and steps == steps2
    assert np.array_equal(part, whole[1:4])


def test_a_nan_network_is_refused_as_the_vector_env_refuses_it():
    net = PlasticNet((5, 4, 1), "static")
    genomes = np.zeros((2, net.num_params), np.float32)
    genomes[1, -1] = np.nan
    for compiled in (False, True):
        ev = PopulationEvaluator(EnvSpec("underact/CartPoleBalance-v0"), net, 2, 1, seed=5, compiled=compiled)
        with pytest.raises(ValueError, match="actions must be finite forces; got nan for env 1"):
            ev.evaluate(genomes, 0, 0)


def test_a_diverging_body_is_refused_as_the_vector_env_refuses_it():
    net = PlasticNet((5, 1), "static")
    genomes = np.full((1, net.num_params), 5.0, np.float32)  # saturated output: full force
    for compiled in (False, True):
        spec = EnvSpec("underact/CartPoleSwingUp-v0", {"actuator_gain": 1e300})
        ev = PopulationEvaluator(spec, net, 1, 1, seed=5, compiled=compiled)
        with pytest.raises(DivergenceError, match=r"cartpole \(env 0\)"):
            ev.evaluate(genomes, 0, 0)


def test_a_wrapped_environment_keeps_the_step_by_step_path():
    """A wrapper (here: only the first two observations, as an encoder's features would be) changes what the
    network sees: the compiled rollout, which steps the bare environment, must not be used behind it."""
    from gymnasium.spaces import Box
    from gymnasium.wrappers.vector import TransformObservation

    from underact.agents.perception.encoded import EncodedEnvSpec

    def first_two(env):
        space = Box(-np.inf, np.inf, (env.num_envs, 2), np.float32)
        return TransformObservation(env, lambda obs: obs[:, :2], space)

    net = PlasticNet((2, 8, 1), "ABCD_lr")
    genomes = np.random.default_rng(4).normal(0, 0.3, (3, net.num_params)).astype(np.float32)
    results = []
    for compiled in (True, False):
        spec = EncodedEnvSpec("underact/CartPoleBalance-v0", {"max_episode_steps": 50}, wrap=first_two)
        ev = PopulationEvaluator(spec, net, 3, 2, seed=5, compiled=compiled)
        results.append(ev.evaluate(genomes, 0, 0))
        ev.close()
    np.testing.assert_array_equal(results[0][0], results[1][0])
    assert results[0][1] == results[1][1]


def test_bodies_per_copy_are_read_per_copy():
    """Per-copy parameters (one pole length per environment copy) reach the compiled physics copy by copy."""
    net = PlasticNet((5, 4, 1), "static")
    genomes = np.zeros((3, net.num_params), np.float32)
    lengths = list(np.linspace(0.3, 1.2, 3 * 2))
    (ref, ref_steps), (got, steps) = _both("underact/CartPoleBalance-v0", net, genomes, episodes=2, l=lengths)
    np.testing.assert_array_equal(got, ref)
    assert steps == ref_steps and len(np.unique(ref)) > 2  # longer poles fall later
