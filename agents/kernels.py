"""Fused CPU kernels for plastic networks: forward pass and Hebbian update in one sweep over the weights.

Eager PyTorch needs an einsum, a tanh and four elementwise passes per layer (each reading and writing the whole
[P, E, out, in] weight tensor); here one numba-compiled loop per layer computes post = tanh(w·pre) row by row and
then applies Δw = (A·post + B)·pre + C·post + D (η already folded in, see `underact.agents.hebbian`) while the
row's coefficients sit in L1 for all E episodes of an individual. Individuals run in parallel (`prange`);
each one's arithmetic is in a fixed order, so results do not depend on the thread count, on array alignment
or on how the population is sliced (tested). Compiled on first use and cached next to this file.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

# Fast-math lets LLVM vectorise the dot products (≈ 3× faster here). The vectorised sum's order depends only on
# the row length, not on array alignment or threads, so results stay bitwise reproducible on a given machine.
_FASTMATH = True


@njit(fastmath=_FASTMATH, cache=True, inline="always")
def _forward(w, pre, post, p):  # pragma: no cover - compiled
    """post[p] = tanh(w[p] · pre[p]) for one individual p, all its episodes."""
    n_e, n_o, n_i = w.shape[1:]
    for e in range(n_e):
        for o in range(n_o):
            acc = np.float32(0.0)
            for i in range(n_i):
                acc += w[p, e, o, i] * pre[p, e, i]
            post[p, e, o] = np.tanh(acc)


@njit(parallel=True, fastmath=_FASTMATH, cache=True)
def plastic_layer(w, pre, a, b, c, d, post):  # pragma: no cover - compiled
    """post[p,e,o] = tanh(Σ_i w[p,e,o,i]·pre[p,e,i]); then w[p,e,o,i] += (a·post + b)·pre + c·post + d.

    w [P, E, O, I] (updated in place), pre [P, E, I], a…d [P, 1, O, I], post [P, E, O] (written).
    """
    n_p, n_e, n_o, n_i = w.shape
    for p in prange(n_p):
        _forward(w, pre, post, p)
        for o in range(n_o):
            for e in range(n_e):
                po = post[p, e, o]
                for i in range(n_i):
                    w[p, e, o, i] += (
                        (a[p, 0, o, i] * po + b[p, 0, o, i]) * pre[p, e, i] + c[p, 0, o, i] * po + d[p, 0, o, i]
                    )


@njit(parallel=True, fastmath=_FASTMATH, cache=True)
def static_layer(w, pre, post):  # pragma: no cover - compiled
    """post[p,e,o] = tanh(Σ_i w[p,e,o,i]·pre[p,e,i]); w [P, E, O, I] is not changed."""
    for p in prange(w.shape[0]):
        _forward(w, pre, post, p)


def use_threads(n: int) -> None:
    """Runs the kernels on n threads (at most numba's pool size); the trainer uses one (see `set_threads`)."""
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
