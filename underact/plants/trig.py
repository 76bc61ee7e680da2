"""sin and cos for the closed forms: numpy's in Python, a branch-free polynomial the compiler vectorises in numba.

The closed forms (`underact.plants.analytic`) call `sincos(x)` and `sin(x)`. On floats and numpy arrays these are
numpy's `np.sin` / `np.cos`. Inside numba-compiled code (the environments' fused RK4 kernels) they are replaced by
`sincos_poly`: Cody–Waite reduction by π/2 in three parts, then the minimax polynomials of fdlibm's `__kernel_sin`
and `__kernel_cos` (Sun Microsystems' public-domain libm, the coefficients of FreeBSD's `k_sin.c` / `k_cos.c`) on
|r| ≤ π/4, and the quadrant chosen with selects. With no calls and no branches, LLVM vectorises a loop over copies
(AVX2 / AVX-512 here), where the C library's scalar `sin` cost ~10 ns per call and the environments' RK4 needs
ten per step.

Accuracy (tests/test_trig.py): within 1 ulp of numpy's for |x| ≤ 1e5 (a pole at the 8π rad/s speed limit for over
an hour); the reduction stays exact while |x| < 2²⁰·π/2 ≈ 1.6e6. Beyond that the absolute error grows like
|x|·2⁻⁵³, the size of the float's own spacing at x, so it is no worse than the state's rounding. Every operation is
IEEE with no fused multiply-add, so the vectorised and scalar forms give bitwise the same result.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload, register_jitable

# Cody–Waite split of π/2 (fdlibm's e_rem_pio2.c): 33 + 33 + 53 bits, so n·PIO2_1 and n·PIO2_2 are exact for
# |n| < 2²⁰.
INV_PIO2 = 6.36619772367581382433e-01
PIO2_1 = 1.57079632673412561417e00
PIO2_2 = 6.07710050630396597660e-11
PIO2_3 = 2.02226624871116645580e-21
# fdlibm k_sin.c: sin r ≈ r + r³ (S1 + r² (S2 + … + r² S6)), |r| ≤ π/4.
S1, S2, S3 = -1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04
S4, S5, S6 = 2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10
# fdlibm k_cos.c: cos r ≈ 1 − r²/2 + r⁴ (C1 + r² (C2 + … + r² C6)), summed as fdlibm does for accuracy.
C1, C2, C3 = 4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05
C4, C5, C6 = -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11


def select(condition, a, b):
    """a where condition holds, else b: `np.where` on arrays, a branch-free select in compiled code."""
    return np.where(condition, a, b)


@overload(select)
def _select_compiled(condition, a, b):
    if isinstance(condition, types.Boolean):
        return lambda condition, a, b: a if condition else b
    return None


@register_jitable
def sincos_poly(x):
    """(sin x, cos x) by range reduction and polynomials, on a float or a numpy array (see the module docstring)."""
    n = np.floor(x * INV_PIO2 + 0.5)
    r = ((x - n * PIO2_1) - n * PIO2_2) - n * PIO2_3
    z = r * r
    s = r + r * z * (S1 + z * (S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)))))
    hz = 0.5 * z
    w = 1.0 - hz
    c = w + (((1.0 - w) - hz) + z * z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6))))))
    quadrant = n - 4.0 * np.floor(n * 0.25)  # n mod 4, as a float in {0, 1, 2, 3}
    odd = (quadrant == 1.0) | (quadrant == 3.0)
    sin_x, cos_x = select(odd, c, s), select(odd, s, c)
    sin_x = select(quadrant >= 2.0, -sin_x, sin_x)
    cos_x = select((quadrant == 1.0) | (quadrant == 2.0), -cos_x, cos_x)
    return sin_x, cos_x


def sincos(x):
    """(sin x, cos x): numpy's on floats and arrays; `sincos_poly` in compiled code."""
    return np.sin(x), np.cos(x)


def sin(x):
    """sin x: numpy's on floats and arrays; `sincos_poly` in compiled code."""
    return np.sin(x)


def cos(x):
    """cos x: numpy's on floats and arrays; `sincos_poly` in compiled code."""
    return np.cos(x)


@overload(sincos)
def _sincos_compiled(x):
    if isinstance(x, types.Float):
        return lambda x: sincos_poly(x)
    return None


@overload(sin)
def _sin_compiled(x):
    if isinstance(x, types.Float):
        return lambda x: sincos_poly(x)[0]
    return None


@overload(cos)
def _cos_compiled(x):
    if isinstance(x, types.Float):
        return lambda x: sincos_poly(x)[1]
    return None
