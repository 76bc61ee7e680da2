"""Hebbian rules against hand-computed updates, the genome layout, and batched rollouts against a per-agent loop."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from underact.agents.hebbian import RULE_COEFFICIENTS, RULES, PlasticNet, torch_uniform
from underact.agents.rollout import EnvSpec, PopulationEvaluator, derived_seed, to_actions


def _loop_update(w, coeffs, pre, post, rule):
    """Δw_ji = η(A o_i o_j + B o_i + C o_j + D), synapse by synapse (o_i pre, o_j post)."""
    new = [row[:] for row in w]
    for j in range(len(w)):
        for i in range(len(w[0])):
            c = {k: coeffs[k][j][i] for k in coeffs}
            eta = c.get("eta", 1.0)
            dw = c.get("A", 0) * pre[i] * post[j] + c.get("B", 0) * pre[i] + c.get("C", 0) * post[j] + c.get("D", 0)
            new[j][i] = w[j][i] + eta * dw
    return new


def test_abcd_lr_single_synapse_by_hand():
    # One input, one output: w=0.5, x=2 → o_j = tanh(1); A=1, B=2, C=3, D=4, η=0.1.
    net = PlasticNet((1, 1), "ABCD_lr")
    genome = torch.tensor([[1.0, 2.0, 3.0, 4.0, 0.1]])
    terms = net.terms(genome)
    w = [torch.full((1, 1, 1, 1), 0.5)]
    out = net.step(w, terms, torch.tensor([[[2.0]]]))
    oj = np.tanh(1.0)
    assert out.item() == pytest.approx(oj, rel=1e-6)
    expected = 0.5 + 0.1 * (1 * 2 * oj + 2 * 2 + 3 * oj + 4)  # = 1.3 + 0.5·tanh(1)
    assert expected == pytest.approx(1.680797, abs=1e-6)
    assert w[0].item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("rule", [r for r in RULES if r != "static"])
def test_each_rule_matches_synapse_loop(rule):
    rng = np.random.default_rng(3)
    net = PlasticNet((3, 2), rule)
    genome = rng.normal(size=(1, net.num_params)).astype(np.float32)
    w0 = rng.uniform(-0.5, 0.5, size=(2, 3))
    x = np.array([0.3, -1.2, 0.7])
    coeffs = {}
    for blk in net.layout():
        coeffs[blk.coefficient] = genome[0, blk.offset : blk.offset + 6].reshape(2, 3).astype(np.float64).tolist()
    post = np.tanh(w0 @ x)
    expected = np.array(_loop_update(w0.tolist(), coeffs, x.tolist(), post.tolist(), rule))
    w = [torch.tensor(w0, dtype=torch.float32).reshape(1, 1, 2, 3)]
    net.step(w, net.terms(torch.from_numpy(genome)), torch.tensor(x, dtype=torch.float32).reshape(1, 1, 3))
    np.testing.assert_allclose(w[0][0, 0].numpy(), expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(expected, w0)


def test_static_rule_uses_genome_as_weights_and_never_changes():
    net = PlasticNet((2, 3, 1), "static")
    genome = torch.arange(net.num_params, dtype=torch.float32)[None] / 10
    terms = net.terms(genome)
    w = net.initial_weights(terms, [torch.Generator()], 2)
    np.testing.assert_array_equal(w[0][0, 1].numpy(), (np.arange(6) / 10).reshape(3, 2).astype(np.float32))
    x = torch.tensor([[[1.0, -1.0], [0.5, 0.5]]])
    out = net.step(w, terms, x)
    w1 = (np.arange(6) / 10).reshape(3, 2)
    w2 = (np.arange(6, 9) / 10).reshape(1, 3)
    ref = np.tanh(w2 @ np.tanh(w1 @ np.array([1.0, -1.0])))
    assert out[0, 0, 0].item() == pytest.approx(ref[0], rel=1e-5)
    np.testing.assert_array_equal(w[1][0, 0].numpy(), w2.astype(np.float32))


def test_genome_layout_is_layer_then_coefficient_row_major():
    net = PlasticNet((4, 2, 2), "ABCD_lr")
    assert net.num_params == 60
    blocks = net.layout()
    assert [(b.layer, b.coefficient, b.offset) for b in blocks[:6]] == [
        (0, "A", 0),
        (0, "B", 8),
        (0, "C", 16),
        (0, "D", 24),
        (0, "eta", 32),
        (1, "A", 40),
    ]
    genome = np.zeros((1, 60), np.float32)
    genome[0, 8 + 1 * 4 + 3] = 7.0  # layer 0, B, row (post) 1, column (pre) 3
    genome[0, 32:40] = 1.0  # η = 1 in layer 0
    terms = net.terms(genome)
    assert terms[0].b[0, 0, 1, 3] == 7.0
    assert np.abs(terms[0].b).sum() == 7.0
    assert terms[0].b.dtype == np.float32 and terms[0].b.flags.c_contiguous
    torch_terms = net.terms(torch.from_numpy(genome))  # torch tensors are accepted too
    np.testing.assert_array_equal(torch_terms[0].b, terms[0].b)


def test_norm_scales_each_layer_to_unit_max():
    net = PlasticNet((3, 4, 2), "AD", norm=True)
    genome = torch.ones(2, net.num_params)
    terms = net.terms(genome)
    w = net.initial_weights(terms, [torch.Generator().manual_seed(k) for k in range(2)], 3)
    net.step(w, terms, torch.ones(2, 3, 3))
    for layer in w:
        np.testing.assert_allclose(layer.abs().amax(dim=(-2, -1)).numpy(), 1.0, rtol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**31 - 1, 2**32 - 1, 2**32 + 7, derived_seed(0, 3, 5)])
def test_torch_uniform_is_torchs_cpu_generator_bit_for_bit(seed):
    for n in (1, 17, 624, 625, 5000):  # around the Mersenne Twister's 624-word state
        expected = torch.rand(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float32).numpy()
        np.testing.assert_array_equal(torch_uniform(seed, n), expected)
    got = torch_uniform(seed, 10_000)
    assert got.dtype == np.float32 and 0.0 <= got.min() and got.max() < 1.0


@pytest.mark.parametrize("rule", ["ABCD_lr", "A"])
def test_initial_weights_from_seeds_equal_torch_generators(rule):
    """Integer seeds give, as numpy arrays, exactly the weights torch generators with those seeds give; each
    individual's layers come from its own stream in turn."""
    net = PlasticNet((4, 8, 3, 2), rule)
    terms = net.terms(np.zeros((3, net.num_params), np.float32))
    seeds = [derived_seed(9, 2, k) for k in range(3)]
    ours = net.initial_weights(terms, seeds, 5)
    theirs = net.initial_weights(terms, [torch.Generator().manual_seed(s) for s in seeds], 5)
    for a, b, (out, inp) in zip(ours, theirs, net.shapes, strict=True):
        assert isinstance(a, np.ndarray) and isinstance(b, torch.Tensor)
        assert a.shape == (3, 5, out, inp) and a.dtype == np.float32 and a.flags.c_contiguous
        np.testing.assert_array_equal(a, b.numpy())
        assert np.abs(a).max() <= net.init_scale
    # the old per-layer draws from one generator: layer 0 for every individual, then layer 1, ...
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    for a, (out, inp) in zip(ours, net.shapes, strict=True):
        old = torch.stack(
            [torch.rand((5, out, inp), generator=g) * (2 * net.init_scale) - net.init_scale for g in gens]
        )
        np.testing.assert_array_equal(a, old.numpy())


def test_step_takes_arrays_or_tensors_alike():
    net = PlasticNet((3, 4, 2), "ABCD_lr")
    genome = np.random.default_rng(2).normal(size=(2, net.num_params)).astype(np.float32)
    terms = net.terms(genome)
    x = np.random.default_rng(3).normal(size=(2, 3, 3)).astype(np.float32)
    w_np = net.initial_weights(terms, [1, 2], 3)
    w_t = [torch.from_numpy(w.copy()) for w in w_np]
    out_np = net.step(w_np, terms, x)
    out_t = net.step(w_t, terms, torch.from_numpy(x))
    assert isinstance(out_np, np.ndarray) and isinstance(out_t, torch.Tensor)
    np.testing.assert_array_equal(out_np, out_t.numpy())
    for a, b in zip(w_np, w_t, strict=True):
        np.testing.assert_array_equal(a, b.numpy())  # both updated in place
    with pytest.raises(ValueError, match="contiguous float32"):
        net.step([w.astype(np.float64) for w in w_np], terms, x)
    with pytest.raises(ValueError, match="contiguous float32"):
        net.step([np.asfortranarray(w) for w in w_np], terms, x)


def test_unknown_rule_and_bad_genome_shape_are_rejected():
    with pytest.raises(ValueError, match="unknown rule"):
        PlasticNet((2, 2), "ABCDE")
    with pytest.raises(ValueError, match="genomes must be"):
        PlasticNet((2, 2), "A").terms(torch.zeros(1, 5))
    assert set(RULE_COEFFICIENTS) == set(RULES)


def _reference_returns(net, genome, env_id, seed, generation, k, e, episodes, total):
    """One agent, one env, one step at a time, float64 numpy: the same weights and initial state."""
    g = torch.Generator().manual_seed(derived_seed(seed, generation, k))
    # plastic rules draw fresh weights without reading the genome, so a zero genome gives the same draw
    fresh = net.initial_weights(net.terms(torch.zeros(1, net.num_params)), [g], episodes)
    w = [m[0, e].double().numpy().copy() for m in fresh]
    coeffs = {}
    for blk in net.layout():
        n = blk.shape[0] * blk.shape[1]
        coeffs[(blk.layer, blk.coefficient)] = genome[blk.offset : blk.offset + n].reshape(blk.shape).astype(np.float64)
    env = gym.make(env_id)
    obs, _ = env.reset(seed=derived_seed(seed, generation, 2**31 - 1) + k * episodes + e)
    total_r, done = 0.0, False
    while not done:
        pre = obs.astype(np.float64)
        for layer in range(len(w)):
            post = np.tanh(w[layer] @ pre)
            c = {name: coeffs[(layer, name)] for name in net.coefficients}
            dw = c["A"] * np.outer(post, pre) + c["B"] * pre[None, :] + c["C"] * post[:, None] + c["D"]
            w[layer] = w[layer] + c["eta"] * dw
            pre = post
        action = to_actions(pre[None, :], env.action_space)[0]
        obs, r, term, trunc, _ = env.step(action)
        total_r += r
        done = term or trunc
    env.close()
    return total_r


def test_population_batch_equals_agents_one_by_one():
    torch.set_num_threads(1)
    net = PlasticNet((3, 5, 1), "ABCD_lr")
    rng = np.random.default_rng(0)
    genomes = rng.normal(0, 0.1, size=(3, net.num_params)).astype(np.float32)
    ev = PopulationEvaluator(EnvSpec("Pendulum-v1", {}, "sync"), net, 3, 2, seed=11)
    returns, steps = ev.evaluate(genomes, 0, generation=4)
    ev.close()
    assert steps == 3 * 2 * 200
    ref = np.array(
        [[_reference_returns(net, genomes[k], "Pendulum-v1", 11, 4, k, e, 2, 3) for e in range(2)] for k in range(3)]
    )
    np.testing.assert_allclose(returns, ref, rtol=1e-3)
    assert np.ptp(ref) > 1.0  # the agents really differ


def test_slices_give_the_same_returns_as_the_whole_population_native_env():
    net = PlasticNet((4, 8, 2), "ABCD_lr")
    genomes = np.random.default_rng(1).normal(0, 0.5, size=(6, net.num_params)).astype(np.float32)
    ev = PopulationEvaluator(EnvSpec("CartPole-v1"), net, 6, 2, seed=5)
    whole, _ = ev.evaluate(genomes, 0, 0)
    part, _ = ev.evaluate(genomes[2:5], 2, 0)
    ev.close()
    np.testing.assert_array_equal(part, whole[2:5])
    assert len(np.unique(whole)) > 3
