"""The fused plastic-layer kernel: equal to the formula in float64, and bitwise independent of threads and alignment."""

import numpy as np

from underact.agents import kernels


def _inputs(offset: int, rng_seed: int = 0):
    rng = np.random.default_rng(rng_seed)
    shapes = {"w": (3, 2, 5, 37), "pre": (3, 2, 37), "coef": (3, 1, 5, 37)}
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
