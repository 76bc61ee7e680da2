"""The compiled rollout on Gymnasium's CartPole-v1 against the step-by-step vector-environment path (Gymnasium's own
`CartPoleVectorEnv.step`): the same episodes to the last bit, so seeded training gives the same numbers on both;
and the batched Mersenne Twister against torch's generator."""

import numpy as np
import pytest
import torch

from underact.agents import compiled
from underact.agents.hebbian import PlasticNet, torch_uniforms
from underact.agents.rollout import EnvSpec, PopulationEvaluator


def _both(net, genomes, episodes, generation, offset=0, total=None):
    results = []
    for use_compiled in (False, True):
        ev = PopulationEvaluator(EnvSpec("CartPole-v1"), net, total or len(genomes), episodes, 3, compiled=use_compiled)
        results.append(ev.evaluate(genomes, offset, generation))
        if use_compiled:  # the path under test really ran
            assert compiled.compiled_env(ev._env(ev.total * episodes), net)
        ev.close()
    return results


@pytest.mark.parametrize(
    ("sizes", "rule", "scale"),
    [((4, 16, 2), "ABCD_lr", 0.3), ((4, 16, 2), "ABCD_lr", 0.05), ((4, 2), "ABCD", 0.5), ((4, 8, 2), "static", 1.0)],
)
def test_compiled_cartpole_v1_plays_exactly_the_step_by_step_episodes(sizes, rule, scale):
    net = PlasticNet(sizes, rule)
    genomes = np.random.default_rng(len(sizes) + int(100 * scale)).normal(0, scale, (10, net.num_params))
    for generation in (0, 7):
        (ref, ref_steps), (got, steps) = _both(net, genomes.astype(np.float32), 3, generation)
        np.testing.assert_array_equal(got, ref)
        assert steps == ref_steps and np.ptp(ref) > 0  # episodes of different lengths


def test_a_trained_network_plays_whole_episodes_and_slices_agree():
    """Long episodes (up to the 500-step limit), and a slice of the population plays its own copies."""
    net = PlasticNet((4, 2), "static")
    genome = np.array([[0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 10.0, 5.0]], np.float32)  # push towards the pole's lean
    genomes = np.repeat(genome, 4, axis=0) + np.random.default_rng(0).normal(0, 0.01, (4, 8)).astype(np.float32)
    (ref, ref_steps), (got, steps) = _both(net, genomes, 2, 1)
    np.testing.assert_array_equal(got, ref)
    assert ref.max() == 500.0 and steps == ref_steps
    (part, _), (cpart, _) = _both(net, genomes[1:3], 2, 1, offset=1, total=4)
    np.testing.assert_array_equal(cpart, part)
    np.testing.assert_array_equal(cpart, got[1:3])


def test_compiled_path_serves_cartpole_v1_and_not_wrapped_or_normalised_networks():
    ev = PopulationEvaluator(EnvSpec("CartPole-v1"), PlasticNet((4, 16, 2), "ABCD_lr"), 2, 1, 0)
    env = ev._env(2)
    assert compiled.compiled_env(env, ev.net)
    assert not compiled.compiled_env(env, PlasticNet((4, 16, 2), "ABCD_lr", norm=True))
    from gymnasium.wrappers.vector import RecordEpisodeStatistics

    assert not compiled.compiled_env(RecordEpisodeStatistics(env), ev.net)
    ev.close()


def test_torch_uniforms_rows_are_torchs_generator_per_seed():
    seeds = [0, 5, 2**32 + 3, 123456789]
    got = torch_uniforms(seeds, 700)  # past the Twister's 624-word state
    for row, seed in zip(got, seeds, strict=True):
        want = torch.rand(700, generator=torch.Generator().manual_seed(seed)).numpy()
        np.testing.assert_array_equal(row, want)
    assert torch_uniforms([], 5).shape == (0, 5)
