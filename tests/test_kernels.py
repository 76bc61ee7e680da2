"""The plastic-layer kernels: a rollout's networks equal the eager formula in float64 step after step (both
layouts, deferred updates), results are bitwise independent of threads, alignment and population slicing, and the
activation is within its stated error of tanh."""

import os
import subprocess
import sys

import numpy as np
import pytest

from underact.agents import kernels
from underact.agents.hebbian import PlasticBatch, PlasticNet

# 5 → 37 is stored as columns, 37 → 21 and 21 → 3 as rows; 6 episodes run one group of four and two single episodes.
SIZES, EPISODES = (5, 37, 21, 3), 6


def _reference(weights, coefficients, xs):
    """The eager formula in float64: post = tanh(W·pre), then W += (a·post + b)·pre + c·post + d, every step."""
    w = [x.astype(np.float64) for x in weights]
    outs = []
    for x in xs:
        pre = x.astype(np.float64)
        for layer, (a, b, c, d) in enumerate(coefficients):
            a, b, c, d = (t.astype(np.float64) for t in (a, b, c, d))
            post = np.tanh(np.einsum("peoi,pei->peo", w[layer], pre))
            w[layer] = w[layer] + (a * post[..., None] + b) * pre[:, :, None, :] + c * post[..., None] + d
            pre = post
        outs.append(pre)
    return outs, w


def _setup(seed=0, individuals=3):
    rng = np.random.default_rng(seed)
    net = PlasticNet(SIZES, "ABCD")
    genomes = rng.normal(0, 0.2, (individuals, net.num_params)).astype(np.float32)
    coefficients = [t.kernel_args for t in net.terms(genomes)]
    weights = net.initial_weights(net.terms(genomes), list(range(individuals)), EPISODES)
    xs = [rng.normal(0, 1, (individuals, EPISODES, SIZES[0])).astype(np.float32) for _ in range(4)]
    return net, weights, coefficients, xs


def test_layouts_are_the_ones_this_test_means_to_cover():
    net = PlasticNet(SIZES, "ABCD")
    assert [kernels.use_columns(i, o) for o, i in net.shapes] == [True, False, False]


def test_batch_matches_the_eager_formula_in_float64_step_after_step():
    net, weights, coefficients, xs = _setup()
    ref_outs, ref_w = _reference(weights, coefficients, xs)
    batch = PlasticBatch(net, weights, coefficients)
    for x, ref in zip(xs, ref_outs, strict=True):
        np.testing.assert_allclose(batch.act(x), ref, rtol=1e-5, atol=2e-6)
    for got, ref in zip(batch.weights(), ref_w, strict=True):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=2e-5)
    # the eager public step (update applied at once) gives the same networks
    eager = [w.copy() for w in weights]
    for x, ref in zip(xs, ref_outs, strict=True):
        np.testing.assert_allclose(net.step_arrays(eager, coefficients, x), ref, rtol=1e-5, atol=2e-6)
    for got, ref in zip(eager, ref_w, strict=True):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=2e-5)


def test_keep_drops_individuals_and_their_pending_updates_with_them():
    net, weights, coefficients, xs = _setup(individuals=4)
    whole, part = PlasticBatch(net, weights, coefficients), PlasticBatch(net, weights, coefficients)
    keep = np.array([True, False, True, True])
    for step, x in enumerate(xs):
        out = whole.act(x)
        got = part.act(x if step < 2 else x[keep])
        np.testing.assert_array_equal(got, out if step < 2 else out[keep])
        if step == 1:
            part.keep(keep)
    for a, b in zip(part.weights(), whole.weights(), strict=True):
        np.testing.assert_array_equal(a, b[keep])


def _misaligned(array: np.ndarray, offset: int) -> np.ndarray:
    """A copy of `array` that starts `offset` floats into a buffer."""
    buf = np.empty(array.size + 16, dtype=np.float32)
    out = buf[offset : offset + array.size].reshape(array.shape)
    out[...] = array
    return out


@pytest.mark.parametrize("columns", [False, True])
def test_bitwise_independent_of_threads_alignment_and_slicing(columns):
    rng = np.random.default_rng(1)
    p, e, n_in, n_out = 5, EPISODES, 37, 21
    w = rng.normal(0, 0.3, (p, e, n_out, n_in)).astype(np.float32)
    coefficients = [rng.normal(0, 0.3, (p, 1, n_out, n_in)).astype(np.float32) for _ in range(4)]
    last_pre, pre = rng.normal(0, 1, (2, p, e, n_in)).astype(np.float32)
    last_post = rng.uniform(-1, 1, (p, e, n_out)).astype(np.float32)
    results = []
    for threads, offset, part in [(1, 0, slice(None)), (2, 0, slice(None)), (1, 3, slice(None)), (2, 5, slice(1, 4))]:
        kernels.use_threads(threads)
        args = [
            _misaligned(a[part], offset)
            for a in (kernels.to_layout(w, columns), kernels.pack_coefficients(*coefficients, columns))
        ]
        args += [_misaligned(a[part], offset) for a in (last_pre, last_post, pre)]
        post = np.empty((len(args[0]), e, n_out), np.float32)
        kernels.layer(*args, post, kernels.UPDATE_DOT, columns)
        results.append((part, post, args[0]))
    kernels.use_threads(1)
    _, post0, w0 = results[0]
    for part, post, w_after in results[1:]:
        assert np.array_equal(post, post0[part]) and np.array_equal(w_after, w0[part])


@pytest.mark.parametrize("columns", [False, True])
def test_activation_error_against_tanh_on_a_dense_grid(columns):
    # One input of value 1: post = tanh32(w) for every weight w, through the kernel's own (inlined) activation.
    grid = np.concatenate(
        [np.linspace(-12.0, 12.0, 1_200_001), np.geomspace(1e-30, 1.0, 100_001), -np.geomspace(1e-30, 1.0, 100_001)]
    ).astype(np.float32)
    w = kernels.to_layout(grid.reshape(1, 1, -1, 1), columns)
    pre = np.ones((1, 1, 1), dtype=np.float32)
    post = np.empty((1, 1, grid.size), dtype=np.float32)
    kernels.layer(w, w, pre, post, pre, post, kernels.DOT, columns)
    exact = np.tanh(grid.astype(np.float64))
    rel = np.abs(post[0, 0].astype(np.float64) - exact) / np.abs(exact)
    assert rel.max() <= kernels.TANH_MAX_REL_ERROR <= 1e-6
    assert rel.max() > 1e-7  # the bound is tight: it states the approximation's error, not float32's rounding
    assert post.max() <= 1.0 and post.min() >= -1.0


def test_huge_arrays_start_on_a_huge_page_boundary():
    small, big = kernels.empty((10, 10)), kernels.empty((3, 1 << 20))
    assert small.flags.c_contiguous and big.flags.c_contiguous and big.dtype == np.float32
    assert big.ctypes.data % kernels.HUGE_PAGE == 0 and big.shape == (3, 1 << 20)


def test_shapes_the_kernels_would_overrun_are_refused():
    net, weights, coefficients, xs = _setup()
    batch = PlasticBatch(net, weights, coefficients)
    for bad in (xs[0][:2], xs[0][:, :3], xs[0][..., :4], xs[0][None]):
        with pytest.raises(ValueError, match="observations must be"):
            batch.act(bad)
    with pytest.raises(ValueError, match="layer 1 weights"):
        PlasticBatch(net, [weights[0], weights[1][:, :, :5], weights[2]], coefficients)
    with pytest.raises(ValueError, match="layer 0 coefficients"):
        PlasticBatch(net, weights, [tuple(c[:1] for c in coefficients[0]), *coefficients[1:]])
    with pytest.raises(ValueError, match="layers of weights"):
        PlasticBatch(net, weights[:2], coefficients)


_FRESH_OR_CACHED = """
import hashlib, sys, numpy as np
from underact.agents import kernels
kernels.use_threads(int(sys.argv[1]))
rng = np.random.default_rng(0)
digest = hashlib.sha256()
for columns in (False, True):
    for mode in (kernels.DOT, kernels.UPDATE_DOT, kernels.UPDATE):
        p, e, n_in, n_out = 4, 3, 16, 8
        w = kernels.to_layout(rng.normal(0, 0.3, (p, e, n_out, n_in)).astype(np.float32), columns)
        co = kernels.pack_coefficients(*rng.normal(0, 0.3, (4, p, 1, n_out, n_in)).astype(np.float32), columns)
        last_pre, pre = rng.normal(0, 1, (2, p, e, n_in)).astype(np.float32)
        last_post = rng.uniform(-1, 1, (p, e, n_out)).astype(np.float32)
        post = np.empty((p, e, n_out), np.float32)
        kernels.layer(w, co, last_pre, last_post, pre, post, mode, columns)
        digest.update(post.tobytes() + w.tobytes())
print(digest.hexdigest())
"""


def test_a_first_run_and_a_cached_run_give_the_same_bits(tmp_path):
    """A fresh install compiles the kernels, later runs load numba's cache: both give the same bits, on one thread
    or two (numba's cached `parallel=True` object computed these shapes differently from a fresh compile)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    run = [sys.executable, "-c", _FRESH_OR_CACHED]
    digests = [subprocess.run([*run, threads], capture_output=True, text=True, env=env, timeout=600).stdout.strip()
               for threads in ("1", "1", "2", "2")]
    assert len(digests[0]) == 64 and len(set(digests)) == 1, digests
