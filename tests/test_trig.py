"""The vectorisable sin/cos of the compiled kernels against the C library's (numpy's), and bitwise self-consistency."""

import numba
import numpy as np

from underact.plants.trig import cos, sin, sincos, sincos_poly


@numba.njit
def _compiled_loop(x, s, c):  # the loop form the environments' kernels use (vectorised by LLVM)
    for i in range(x.shape[0]):
        s[i], c[i] = sincos(x[i])


@numba.njit
def _compiled_one(x):
    return sin(x), cos(x)


def _angles() -> np.ndarray:
    rng = np.random.default_rng(0)
    special = np.array([0.0, -0.0, np.pi / 4, np.pi / 2, np.pi, 3 * np.pi / 2, 2 * np.pi, 1e-300, -1e-8, 1e5])
    return np.concatenate([rng.uniform(-1e5, 1e5, 400_000), np.linspace(-20, 20, 200_001), special])


def test_compiled_sincos_is_within_two_ulp_of_one_of_the_c_library():
    x = _angles()
    s, c = np.empty_like(x), np.empty_like(x)
    _compiled_loop(x, s, c)
    # absolute error: at most 2 ulp of 1.0 (the polynomials' error on |r| <= pi/4 plus the reduction's)
    assert np.max(np.abs(s - np.sin(x))) <= 2 * np.spacing(1.0)
    assert np.max(np.abs(c - np.cos(x))) <= 2 * np.spacing(1.0)
    assert np.sum(s != np.sin(x)) < 0.25 * len(x)  # mostly the very same double
    assert _compiled_one(0.0) == (0.0, 1.0)


def test_the_vectorised_loop_equals_the_scalar_and_numpy_forms_bitwise():
    x = _angles()[::97]
    s, c = np.empty_like(x), np.empty_like(x)
    _compiled_loop(x, s, c)
    scalar = np.array([_compiled_one(float(v)) for v in x])
    np.testing.assert_array_equal(scalar[:, 0], s)
    np.testing.assert_array_equal(scalar[:, 1], c)
    ps, pc = sincos_poly(x)  # the same polynomial on numpy arrays
    np.testing.assert_array_equal(ps, s)
    np.testing.assert_array_equal(pc, c)


def test_python_callers_get_numpy_and_non_finite_angles_give_nan():
    x = np.linspace(-3, 3, 7)
    np.testing.assert_array_equal(sincos(x)[0], np.sin(x))
    np.testing.assert_array_equal(cos(x), np.cos(x))
    s, c = np.empty(3), np.empty(3)
    _compiled_loop(np.array([np.nan, np.inf, -np.inf]), s, c)
    assert np.isnan(s).all() and np.isnan(c).all()
