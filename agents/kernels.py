"""Fused CPU kernels for plastic networks: the Hebbian update and the next forward pass in one sweep over the weights.

A plastic layer's step is post = tanh(W·pre), then W += Δ with Δ = (A·post + B)·pre + C·post + D per synapse (η
already folded in, see `underact.agents.hebbian`). The kernels defer each update to the next step, where it is
applied while the same weights are read for the next dot product: W ← W + Δ(pre', post'), post = tanh(W·pre), one
read and one write of every weight per step and no dependency between a row's dot product and its update. The
networks' outputs are exactly the eager order's (the same updates of the same weights, one step later, before
they are next read); `underact.agents.hebbian.PlasticBatch` keeps the pending (pre', post') and flushes it when the
weights are read out.

Layouts, per layer of P individuals × E episodes (weights [P, E, out, in] outside the kernels):
- `rows` (fan-in ≥ fan-out): w [P, out, E, in], coefficients [P, out, 4, in]. Each output's E weight rows and its
  four coefficient rows are contiguous (two memory streams); the loop over inputs is vectorised, four episodes at a
  time so one load of the coefficients serves four weights.
- `columns` (fan-in < fan-out, e.g. 4 observations into 128 units): w [P, in, E, out], coefficients
  [P, in, 4, out]; the vectorised loop runs over the outputs (a loop of four inputs does not vectorise).

Modes: `DOT` (post = tanh(W·pre): the first step, and static networks), `UPDATE_DOT` (the pending update, then
the dot product), `UPDATE` (the pending update only: a flush). Individuals run in parallel (`prange`); each one's
arithmetic is in a fixed order, so results do not depend on the thread count, on array alignment or on how the
population is sliced (tested). Compiled on first use and cached next to this file.

The activation is `tanh32`, a rational approximation (the one XLA and Eigen use for float32): branch-free and
inlined, a few multiply-adds and one division where the C library's `tanhf` is a call of ~14 ns; the compiler
vectorises it over a row of outputs. Its largest error against the exact tanh is `TANH_MAX_REL_ERROR` (relative),
measured over a dense grid in the tests; float32 itself resolves about 6e-8.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

import underact.compiling  # noqa: F401 - announces the first compilation of the kernels

# Fast-math lets LLVM vectorise the dot products (≈ 3× faster here). The vectorised sum's order depends only on
# the row length, not on array alignment or threads, so results stay bitwise reproducible on a given machine.
# Reassociation, fused multiply-adds, reciprocals and signless zeros only: no "no NaNs / no infinities" assumption,
# so a NaN weight or input still gives a NaN output (which the environment then refuses), in every context.
FASTMATH = {"reassoc", "contract", "arcp", "nsz"}
_OPTIONS = {"fastmath": FASTMATH, "cache": True, "error_model": "numpy"}

#: Kernel modes (see the module docstring).
DOT, UPDATE_DOT, UPDATE = 0, 1, 2


# tanh(x) ≈ x·P(x²)/Q(x²) on [−CLAMP, CLAMP] (±1 beyond: tanh(CLAMP) rounds to 1 − 3e-7), x itself below TINY
# (where tanh(x) = x(1 − x²/3 + …) differs from x by less than 6e-8). Coefficients from Eigen's
# `generic_fast_tanh_float`, evaluated in float32.
_F32 = np.float32
_CLAMP, _TINY = _F32(7.90531110763549805), _F32(0.0004)
_P1, _P3, _P5 = _F32(4.89352455891786e-03), _F32(6.37261928875436e-04), _F32(1.48572235717979e-05)
_P7, _P9 = _F32(5.12229709037114e-08), _F32(-8.60467152213735e-11)
_P11, _P13 = _F32(2.00018790482477e-13), _F32(-2.76076847742355e-16)
_Q0, _Q2 = _F32(4.89352518554385e-03), _F32(2.26843463243900e-03)
_Q4, _Q6 = _F32(1.18534705686654e-04), _F32(1.19825839466702e-06)
TANH_MAX_REL_ERROR = 3e-7  # measured: 2.7e-7 (at x ≈ ±5.94); the test checks this bound on a dense grid


@njit(fastmath=FASTMATH, cache=True, inline="always")
def tanh32(x):  # pragma: no cover - compiled
    """tanh of a float32 within TANH_MAX_REL_ERROR (relative); branch-free, so loops over it vectorise."""
    y = min(max(x, -_CLAMP), _CLAMP)
    y2 = y * y
    num = ((((((_P13 * y2 + _P11) * y2 + _P9) * y2 + _P7) * y2 + _P5) * y2 + _P3) * y2 + _P1) * y
    den = ((_Q6 * y2 + _Q4) * y2 + _Q2) * y2 + _Q0
    return num / den if abs(x) >= _TINY else x  # NaN fails the comparison: tanh32(NaN) is NaN


def use_columns(n_in: int, n_out: int) -> bool:
    """Whether a layer is stored in the `columns` layout (fan-in below fan-out), else `rows`."""
    return n_in < n_out


@njit(inline="always", **_OPTIONS)
def activate(post, q):  # pragma: no cover - compiled
    """post[q, e, o] = tanh32(post[q, e, o]), vectorised over o."""
    for e in range(post.shape[1]):
        for o in range(post.shape[2]):
            post[q, e, o] = tanh32(post[q, e, o])


# The per-individual steps take the whole arrays and the individual's index p (and are inlined where they are
# called): through views w[p] instead, the compiler vectorised the loops less well (1.5x slower here).
@njit(inline="always", **_OPTIONS)
def rows_individual(w, co, last_pre, last_post, pre, post, p, r, q, mode):  # pragma: no cover - compiled
    """Individual p's layer step in the `rows` layout: its weights w[p] [out, E, in] and coefficients co[p]
    [out, 4, in] (A, B, C, D), the pending update's last_pre[r] [E, in] and last_post[r] [E, out], this step's
    pre[q] [E, in]; post[q] [E, out] is written (in mode UPDATE it is scratch: one loop serves both update modes, so
    no branch sits in the vectorised loop). The layer kernels use r = q = p; a rollout keeps two steps' activations
    and alternates between them."""
    n_o, n_e, n_i = w.shape[1], w.shape[2], w.shape[3]
    if mode == DOT:
        for o in range(n_o):
            for e in range(n_e):
                acc = np.float32(0.0)
                for i in range(n_i):
                    acc += w[p, o, e, i] * pre[q, e, i]
                post[q, e, o] = acc
    else:
        for o in range(n_o):
            e = 0
            while e + 4 <= n_e:  # four episodes share each load of the coefficients
                p0, p1, p2, p3 = (
                    last_post[r, e, o],
                    last_post[r, e + 1, o],
                    last_post[r, e + 2, o],
                    last_post[r, e + 3, o],
                )
                s0 = s1 = s2 = s3 = np.float32(0.0)
                for i in range(n_i):
                    a, b, c, d = co[p, o, 0, i], co[p, o, 1, i], co[p, o, 2, i], co[p, o, 3, i]
                    w0 = w[p, o, e, i] + ((a * p0 + b) * last_pre[r, e, i] + (c * p0 + d))
                    w1 = w[p, o, e + 1, i] + ((a * p1 + b) * last_pre[r, e + 1, i] + (c * p1 + d))
                    w2 = w[p, o, e + 2, i] + ((a * p2 + b) * last_pre[r, e + 2, i] + (c * p2 + d))
                    w3 = w[p, o, e + 3, i] + ((a * p3 + b) * last_pre[r, e + 3, i] + (c * p3 + d))
                    w[p, o, e, i] = w0
                    w[p, o, e + 1, i] = w1
                    w[p, o, e + 2, i] = w2
                    w[p, o, e + 3, i] = w3
                    s0 += w0 * pre[q, e, i]
                    s1 += w1 * pre[q, e + 1, i]
                    s2 += w2 * pre[q, e + 2, i]
                    s3 += w3 * pre[q, e + 3, i]
                post[q, e, o], post[q, e + 1, o], post[q, e + 2, o], post[q, e + 3, o] = s0, s1, s2, s3
                e += 4
            while e < n_e:
                po, s = last_post[r, e, o], np.float32(0.0)
                for i in range(n_i):
                    wi = w[p, o, e, i] + (
                        (co[p, o, 0, i] * po + co[p, o, 1, i]) * last_pre[r, e, i]
                        + (co[p, o, 2, i] * po + co[p, o, 3, i])
                    )
                    w[p, o, e, i] = wi
                    s += wi * pre[q, e, i]
                post[q, e, o] = s
                e += 1
    if mode != UPDATE:
        activate(post, q)


@njit(inline="always", **_OPTIONS)
def columns_individual(w, co, last_pre, last_post, pre, post, p, r, q, mode):  # pragma: no cover - compiled
    """Individual p's layer step in the `columns` layout: w[p] [in, E, out], co[p] [in, 4, out]; otherwise as
    `rows_individual`. The dot products accumulate in post over the inputs, each a vectorised loop over outputs."""
    n_i, n_e, n_o = w.shape[1], w.shape[2], w.shape[3]
    for e in range(n_e):
        for o in range(n_o):
            post[q, e, o] = 0.0
    for i in range(n_i):
        for e in range(n_e):
            x = pre[q, e, i]
            if mode == DOT:
                for o in range(n_o):
                    post[q, e, o] += w[p, i, e, o] * x
            else:
                xl = last_pre[r, e, i]
                for o in range(n_o):
                    po = last_post[r, e, o]
                    wi = w[p, i, e, o] + (
                        (co[p, i, 0, o] * po + co[p, i, 1, o]) * xl + (co[p, i, 2, o] * po + co[p, i, 3, o])
                    )
                    w[p, i, e, o] = wi
                    post[q, e, o] += wi * x
    if mode != UPDATE:
        activate(post, q)


# Called (not inlined) by code compiled without fast-math, such as the compiled rollouts: their own arithmetic
# keeps IEEE semantics, and these loops keep their fast-math flags.
@njit(**_OPTIONS)
def individual_step(w, co, last_pre, last_post, pre, post, p, r, q, mode, columns):  # pragma: no cover - compiled
    """`columns_individual` or `rows_individual` (by `columns`), as a function of its own."""
    if columns:
        columns_individual(w, co, last_pre, last_post, pre, post, p, r, q, mode)
    else:
        rows_individual(w, co, last_pre, last_post, pre, post, p, r, q, mode)


@njit(**_OPTIONS)
def rows_layer(w, co, last_pre, last_post, pre, post, mode):  # pragma: no cover - compiled
    """`rows_individual` for every individual: w [P, out, E, in], co [P, out, 4, in] (any shape [P, ...] in mode
    DOT), last_pre and pre [P, E, in], last_post and post [P, E, out]."""
    for p in range(w.shape[0]):
        rows_individual(w, co, last_pre, last_post, pre, post, p, p, p, mode)


@njit(**_OPTIONS)
def columns_layer(w, co, last_pre, last_post, pre, post, mode):  # pragma: no cover - compiled
    """`columns_individual` for every individual: w [P, in, E, out], co [P, in, 4, out]; otherwise as
    `rows_layer`."""
    for p in range(w.shape[0]):
        columns_individual(w, co, last_pre, last_post, pre, post, p, p, p, mode)


# The same on numba's threads, for more than one (`use_threads`). These two are compiled in every process, not
# cached: numba 0.6x's cached object of a `parallel=True` function computed these loops differently from the
# same function compiled in the process (last bits of float32 sums: a seeded run's first and later runs differed,
# and chaotic swing-ups amplified it to 1e-3 in 40 steps). One thread, the trainer's setting, runs the cached
# serial kernels above, which give the same bits fresh or cached, as do these.
@njit(parallel=True, fastmath=FASTMATH, error_model="numpy")
def _rows_threads(w, co, last_pre, last_post, pre, post, mode):  # pragma: no cover - compiled
    for p in prange(w.shape[0]):
        rows_individual(w, co, last_pre, last_post, pre, post, p, p, p, mode)


@njit(parallel=True, fastmath=FASTMATH, error_model="numpy")
def _columns_threads(w, co, last_pre, last_post, pre, post, mode):  # pragma: no cover - compiled
    for p in prange(w.shape[0]):
        columns_individual(w, co, last_pre, last_post, pre, post, p, p, p, mode)


#: Arrays from this size on start on a 2 MiB boundary, so the kernel backs all of them with huge pages (numpy asks
#: for them from 4 MiB on): a population's weights stream from L3 with fewer TLB misses.
HUGE_PAGE = 2 << 20


def empty(shape, dtype=np.float32) -> np.ndarray:
    """An uninitialised C-contiguous array, 2 MiB-aligned when it is at least 4 MiB."""
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if nbytes < 2 * HUGE_PAGE:
        return np.empty(shape, dtype)
    buffer = np.empty(nbytes + HUGE_PAGE, np.uint8)
    start = -buffer.ctypes.data % HUGE_PAGE
    return buffer[start : start + nbytes].view(dtype).reshape(shape)


def _copy(view: np.ndarray) -> np.ndarray:
    out = empty(view.shape, view.dtype)
    out[...] = view
    return out


def to_layout(w: np.ndarray, columns: bool) -> np.ndarray:
    """Weights [P, E, out, in] as the kernel's layout (a contiguous copy)."""
    return _copy(w.transpose(0, 3, 1, 2) if columns else w.transpose(0, 2, 1, 3))


def from_layout(w: np.ndarray, columns: bool) -> np.ndarray:
    """The kernel's layout back to weights [P, E, out, in] (a view)."""
    return w.transpose(0, 2, 3, 1) if columns else w.transpose(0, 2, 1, 3)


def pack_coefficients(a, b, c, d, columns: bool) -> np.ndarray:
    """Coefficients a…d [P, 1, out, in] as the kernel's [P, out, 4, in] (`rows`) or [P, in, 4, out] (`columns`)."""
    packed = np.stack([a[:, 0], b[:, 0], c[:, 0], d[:, 0]], axis=2)  # [P, out, 4, in]
    return _copy(packed.transpose(0, 3, 2, 1) if columns else packed)


def layer(w, co, last_pre, last_post, pre, post, mode: int, columns: bool) -> None:
    """One layer step in the given layout and mode (see the module docstring), on numba's threads when
    `use_threads` gave it more than one."""
    if numba.get_num_threads() > 1 and len(w) > 1:
        kernel = _columns_threads if columns else _rows_threads
    else:
        kernel = columns_layer if columns else rows_layer
    kernel(w, co, last_pre, last_post, pre, post, mode)


def load(plastic: bool = True) -> None:
    """Loads the layer kernels (from numba's cache, or compiles them) by running them once on a tiny layer.

    The first call of a numba function in a process costs ~0.5 s (numba's type system and LLVM start up); an
    evaluator pays it when it is built rather than inside the first generation it times.
    """
    w, co = np.zeros((1, 1, 1, 1), np.float32), np.zeros((1, 1, 4, 1), np.float32)
    x, post = np.zeros((1, 1, 1), np.float32), np.empty((1, 1, 1), np.float32)
    for columns in (False, True):
        for mode in (DOT, UPDATE_DOT, UPDATE) if plastic else (DOT,):
            layer(w, co, x, x, x, post, mode, columns)


def use_threads(n: int) -> None:
    """Runs the kernels on n threads (at most numba's pool size); the trainer uses one (see `set_threads`)."""
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
