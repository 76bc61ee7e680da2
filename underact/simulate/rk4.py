"""The classic fourth-order Runge–Kutta step, once in numpy and once compiled, the numpy form the oracle of the other.

- `rk4_step(f, q, v, h)`: one step of q̇ = v, v̇ = f(q, v) on floats or numpy arrays of any shape (a batch, any
  number of coordinates). `rk4_rollout`, the Drake stepper and the environments' plain-numpy batched path use it.
- `rk4_components`: the same Butcher tableau written on the four state components (q1, q2, v1, v2) of a two-DoF
  built-in, registered with numba so compiled kernels inline it around a system's closed form
  (`underact.systems`). The environments' kernels (`underact.envs.packed.system_kernels`) run it
  over a batch with `prange` (each copy computed alone, so results are bitwise the same for any thread count)
  and for one state. `Kernel.numpy` is their plain-numpy oracle; `tests/test_rk4.py` checks they agree to 1e-12.

The force u is held constant over the step (zero-order hold).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

import numba
import numpy as np
from numba import types
from numba.extending import overload, register_jitable

import underact.compiling  # noqa: F401 - announces the first compilation of the kernels
from underact import systems
from underact.plants.trig import select
from underact.simulate.divergence import MAX_STATE
from underact.systems.base import solve2

#: Batches at least this large run on every numba thread; smaller ones on one (the launch would cost more).
PARALLEL_MIN = 1024


def rk4_step(f: Callable, q, v, h: float):
    """(q, v) after one RK4 step of length h of q̇ = v, v̇ = f(q, v); q, v floats or arrays of one shape."""
    a1 = f(q, v)
    v2 = v + 0.5 * h * a1
    a2 = f(q + 0.5 * h * v, v2)
    v3 = v + 0.5 * h * a2
    a3 = f(q + 0.5 * h * v2, v3)
    v4 = v + h * a3
    a4 = f(q + h * v3, v4)
    return q + h / 6 * (v + 2 * v2 + 2 * v3 + v4), v + h / 6 * (a1 + 2 * a2 + 2 * a3 + a4)


def rk4_components(vdot, q1, q2, v1, v2, u, c, h, substeps):
    """`substeps` RK4 steps of length h of a two-DoF system on its components, v̇ = vdot(q1, q2, v1, v2, u, c).

    The tableau of `rk4_step`, stage for stage: k1 = (v, a1), k2 = (v2, a2) at (q + h/2 v, v2), and so on.
    """
    for _ in range(substeps):
        a11, a12 = vdot(q1, q2, v1, v2, u, c)
        v21, v22 = v1 + 0.5 * h * a11, v2 + 0.5 * h * a12
        a21, a22 = vdot(q1 + 0.5 * h * v1, q2 + 0.5 * h * v2, v21, v22, u, c)
        v31, v32 = v1 + 0.5 * h * a21, v2 + 0.5 * h * a22
        a31, a32 = vdot(q1 + 0.5 * h * v21, q2 + 0.5 * h * v22, v31, v32, u, c)
        v41, v42 = v1 + h * a31, v2 + h * a32
        a41, a42 = vdot(q1 + h * v31, q2 + h * v32, v41, v42, u, c)
        q1, q2 = q1 + h / 6 * (v1 + 2 * v21 + 2 * v31 + v41), q2 + h / 6 * (v2 + 2 * v22 + 2 * v32 + v42)
        v1, v2 = v1 + h / 6 * (a11 + 2 * a21 + 2 * a31 + a41), v2 + h / 6 * (a12 + 2 * a22 + 2 * a32 + a42)
    return q1, q2, v1, v2


def row(table, i):
    """Copy i's constants: `table[i]` of a per-copy (N, K) table; a shared table (a tuple, or a float) as it is.

    Compiled kernels pass shared constants as a tuple of floats, so the loop over copies reads no memory for them
    and the compiler vectorises it; per-copy constants are rows of the table."""
    return table if isinstance(table, (tuple, float)) else table[i]


@overload(row)
def _row_compiled(table, i):
    if isinstance(table, (types.BaseTuple, types.Float)):
        return lambda table, i: table
    return lambda table, i: table[i]


def held_force(u, gain, limit):
    """The force an action commands: gain · u clipped to ±limit; a NaN or infinite action commands 0 (the
    environments refuse those before they matter). Returns (force, finite)."""
    finite = (u - u) == 0.0  # False for NaN and ±inf
    return gain * np.minimum(np.maximum(select(finite, u, 0.0), -limit), limit), finite


def within_bounds(q1, q2, v1, v2):
    """The divergence rule (`underact.simulate.divergence.bounded`) on one state's components: all finite, at most
    MAX_STATE in magnitude (a NaN fails every comparison)."""
    return (abs(q1) <= MAX_STATE) & (abs(q2) <= MAX_STATE) & (abs(v1) <= MAX_STATE) & (abs(v2) <= MAX_STATE)


# The Python functions stay as they are; compiled callers get a compiled copy. The RK4 is inlined in numba's IR, so
# a loop over copies is one flat body the compiler can vectorise (LLVM's inliner leaves a call this large alone);
# the smaller functions it calls are inlined by LLVM (inlining them in the IR too multiplies compile time).
for function in (solve2, held_force, within_bounds):
    register_jitable(function)
register_jitable(inline="always")(rk4_components)

_prepared: set[int] = set()


def prepare(system) -> None:
    """Registers a system's component functions with numba (each once): its record's `jit` as they are, `jit_inline`
    (its closed form, which the RK4 calls four times per step) inlined in numba's IR."""
    for inline, functions in ((False, system.jit), (True, system.jit_inline)):
        for function in functions:
            if id(function) not in _prepared:  # a function two systems share is registered once
                register_jitable(inline="always")(function) if inline else register_jitable(function)
                _prepared.add(id(function))



def table(constants: tuple) -> np.ndarray:
    """Constants (floats, or (N,) arrays per copy) as a contiguous (N or 1, K) float64 table for the kernels."""
    n = max(np.size(k) for k in constants)
    return np.ascontiguousarray(np.stack([np.broadcast_to(np.asarray(k, np.float64), (n,)) for k in constants], 1))


@contextmanager
def parallel_threads(n: int, threads: int | None = None):
    """numba runs the next kernel on `threads` threads (default: all from `PARALLEL_MIN` copies on, else one)."""
    before = numba.get_num_threads()
    if threads is None:
        threads = before if n >= PARALLEL_MIN else 1
    if threads == before:  # nothing to change (setting the count costs microseconds per step)
        yield
        return
    numba.set_num_threads(threads)
    try:
        yield
    finally:
        numba.set_num_threads(before)


class Kernel:
    """Fixed-step RK4 of one two-DoF built-in: `substeps` steps of dt / substeps per call, the force held.

    `params` may hold one value per copy (arrays of length N); the closed form's constants are computed once here,
    as floats or arrays (`constants`, for numpy) and as a table (`table`, for the compiled steps, which the
    environments fuse with their observation and reward: `underact.envs.packed.system_kernels`).
    """

    def __init__(self, system: str, params, dt: float, substeps: int):
        record = systems.get(system)
        prepare(record)
        self.vdot, constants = record.vdot, record.constants
        self.h, self.substeps = dt / substeps, int(substeps)
        self.constants = constants(params)
        self.table = table(self.constants)

    def numpy(self, x: np.ndarray, u: np.ndarray) -> np.ndarray:
        """States x (N, 4) after one call under forces u (N,), in plain numpy (`rk4_step` on (N, 2) arrays): the
        oracle of the compiled steps."""
        c = self.constants

        def f(q, v):
            return np.stack(self.vdot(q[:, 0], q[:, 1], v[:, 0], v[:, 1], u, c), axis=1)

        q, v = x[:, :2], x[:, 2:]
        for _ in range(self.substeps):
            q, v = rk4_step(f, q, v, self.h)
        return np.concatenate([q, v], axis=1)
