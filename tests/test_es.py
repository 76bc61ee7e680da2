"""OpenAI-ES: fitness shaping, mirrored sampling, progress on a known quadratic, exact state round trip."""

from __future__ import annotations

import numpy as np
import pytest

from underact.agents.es import ESConfig, OpenAIES, centered_ranks


def test_centered_ranks_are_linear_in_rank_and_share_ties():
    np.testing.assert_allclose(centered_ranks(np.array([10.0, -3.0, 7.0, 100.0, 0.0])), [0.25, -0.5, 0.0, 0.5, -0.25])
    np.testing.assert_allclose(centered_ranks(np.array([500.0, 20.0, 500.0, 500.0])), [1 / 6, -0.5, 1 / 6, 1 / 6])


def test_centered_ranks_equal_scipy_average_ranks_bitwise():
    from scipy.stats import rankdata

    rng = np.random.default_rng(4)
    for n in (2, 3, 68, 257):
        for fitness in (rng.normal(size=n), rng.integers(0, 5, n).astype(float), np.full(n, 500.0)):
            expected = (rankdata(fitness, method="average") - 1) / (n - 1) - 0.5
            np.testing.assert_array_equal(centered_ranks(fitness), expected)
    np.testing.assert_array_equal(centered_ranks(np.array([3.0])), [0.0])


def test_antithetic_pairs_are_mirrored_about_the_center():
    es = OpenAIES(5, ESConfig(population=6, sigma=0.5, init_std=1.0, seed=2))
    pop = es.ask().astype(np.float64)
    np.testing.assert_allclose((pop[0::2] + pop[1::2]) / 2, np.repeat(es.center[None], 3, axis=0), atol=1e-6)
    assert np.abs(pop[0] - pop[1]).max() > 0.1


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_es_climbs_a_quadratic(optimizer):
    target = np.linspace(-1.0, 1.0, 20)
    lr = 0.05 if optimizer == "adam" else 0.02
    es = OpenAIES(20, ESConfig(population=32, sigma=0.1, lr=lr, lr_decay=0.99, optimizer=optimizer, seed=0))
    start = np.linalg.norm(es.center - target)
    for _ in range(300):
        pop = es.ask().astype(np.float64)
        es.tell(-((pop - target) ** 2).sum(axis=1))
    assert np.linalg.norm(es.center - target) < 0.1 * start


def test_l2_penalty_pulls_toward_the_origin():
    # flat fitness: ranks carry no signal, only the decay term −l2·center moves the center
    es = OpenAIES(3, ESConfig(population=4, lr=0.1, l2=1.0, optimizer="sgd", init_std=1.0, seed=1))
    before = np.linalg.norm(es.center)
    for _ in range(20):
        pop = es.ask()
        es.tell(np.zeros(len(pop)))
    assert np.linalg.norm(es.center) < 0.5 * before


def test_decay_stops_at_minimum():
    es = OpenAIES(
        2, ESConfig(population=2, sigma=0.1, sigma_decay=0.5, sigma_min=0.02, lr=0.1, lr_decay=0.5, lr_min=0.03)
    )
    for _ in range(5):
        es.ask()
        es.tell(np.array([1.0, 0.0]))
    assert es.sigma == 0.02 and es.lr == 0.03


def test_state_round_trip_continues_identically():
    def fitness(pop):
        return -np.abs(pop.astype(np.float64) - 0.3).sum(axis=1)

    a = OpenAIES(7, ESConfig(population=8, seed=5))
    for _ in range(3):
        a.tell(fitness(a.ask()))
    arrays, strings = a.state_dict()
    b = OpenAIES.from_state_dict({k: v.copy() for k, v in arrays.items()}, dict(strings))
    for _ in range(3):
        pa, pb = a.ask(), b.ask()
        np.testing.assert_array_equal(pa, pb)
        a.tell(fitness(pa))
        b.tell(fitness(pb))
    np.testing.assert_array_equal(a.center, b.center)


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="even"):
        OpenAIES(3, ESConfig(population=5))
    OpenAIES(3, ESConfig(population=5, antithetic=False))
    with pytest.raises(ValueError, match="optimizer"):
        OpenAIES(3, ESConfig(optimizer="rmsprop"))
    es = OpenAIES(3, ESConfig(population=4))
    with pytest.raises(ValueError, match="ask"):
        es.tell(np.zeros(4))
    es.ask()
    with pytest.raises(ValueError, match="finite"):
        es.tell(np.array([1.0, np.nan, 0.0, 0.0]))
