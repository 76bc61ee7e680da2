"""The fused plastic-layer kernel: equal to the formula in float64, bitwise independent of threads, alignment and
population slicing, and its activation within its stated error of tanh."""

import numpy as np
import pytest

from underact.agents import kernels


def _inputs(offset: int, rng_seed: int = 0):
    rng = np.random.default_rng(rng_seed)
    # 21 outputs: the activation loop runs both its vectorised body and its scalar remainder
    shapes = {"w": (3, 2, 21, 37), "pre": (3, 2, 37), "coef": (3, 1, 21, 37)}
    arrays = {}
    for name, shape in [("w", shapes["w"]), ("pre", shapes["pre"])] + [(c, shapes["coef"]) for c in "abcd"]:
        size = int(np.prod(shape))
        buf = np.empty(size + 16, dtype=np.float32)  # start the array `offset` floats into a buffer: misaligned
        arr = buf[offset : offset + size].reshape(shape)
        arr[...] = rng.normal(0, 0.3, shape)
        arrays[name] = arr
    return arrays


def test_plastic_layer_matches_the_formula_in_float64():
    x = _inputs(0)
    w64, pre64 = x["w"].astype(np.float64), x["pre"].astype(np.float64)
    post_ref = np.tanh(np.einsum("peoi,pei->peo", w64, pre64))
    a, b, c, d = (x[k].astype(np.float64) for k in "abcd")
    w_ref = w64 + (a * post_ref[..., None] + b) * pre64[:, :, None, :] + c * post_ref[..., None] + d
    post = np.empty(x["w"].shape[:3], dtype=np.float32)
    kernels.plastic_layer(x["w"], x["pre"], x["a"], x["b"], x["c"], x["d"], post)
    np.testing.assert_allclose(post, post_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x["w"], w_ref, rtol=1e-5, atol=1e-5)


def test_bitwise_independent_of_threads_and_alignment():
    results = []
    for threads, offset in [(1, 0), (2, 0), (1, 3), (2, 5)]:
        kernels.use_threads(threads)
        x = _inputs(offset)
        post = np.empty(x["w"].shape[:3], dtype=np.float32)
        kernels.plastic_layer(x["w"], x["pre"], x["a"], x["b"], x["c"], x["d"], post)
        results.append((post.copy(), x["w"].copy()))
    kernels.use_threads(1)
    for post, w in results[1:]:
        assert np.array_equal(post, results[0][0]) and np.array_equal(w, results[0][1])
    x = _inputs(0)  # individuals 1 and 2 alone, as a Ray worker's slice would hold them
    part = {k: v[1:] for k, v in x.items()}
    post = np.empty(part["w"].shape[:3], dtype=np.float32)
    kernels.plastic_layer(part["w"], part["pre"], part["a"], part["b"], part["c"], part["d"], post)
    assert np.array_equal(post, results[0][0][1:]) and np.array_equal(part["w"], results[0][1][1:])


@pytest.mark.parametrize("kernel", ["static_layer", "plastic_layer"])
def test_activation_error_against_tanh_on_a_dense_grid(kernel):
    # One input of value 1: post = tanh32(w) for every weight w, through the kernel's own (inlined) activation.
    grid = np.concatenate(
        [np.linspace(-12.0, 12.0, 1_200_001), np.geomspace(1e-30, 1.0, 100_001), -np.geomspace(1e-30, 1.0, 100_001)]
    ).astype(np.float32)
    w = grid.reshape(1, 1, -1, 1).copy()
    pre = np.ones((1, 1, 1), dtype=np.float32)
    post = np.empty((1, 1, grid.size), dtype=np.float32)
    if kernel == "static_layer":
        kernels.static_layer(w, pre, post)
    else:
        zero = np.zeros_like(w)
        kernels.plastic_layer(w, pre, zero, zero, zero, zero, post)
    exact = np.tanh(grid.astype(np.float64))
    rel = np.abs(post[0, 0].astype(np.float64) - exact) / np.abs(exact)
    assert rel.max() <= kernels.TANH_MAX_REL_ERROR <= 1e-6
    assert rel.max() > 1e-7  # the bound is tight: it states the approximation's error, not float32's rounding
    assert post.max() <= 1.0 and post.min() >= -1.0
