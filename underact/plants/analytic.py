"""Closed-form manipulator equations of the built-in systems, vectorised over a batch of states.

Equations and sign conventions follow Tedrake, "Underactuated Robotics" (2023), ch. 3 (acrobot, cart-pole) and
ch. 2 (pendulum); q = 0 hangs down. Default parameters are those of the models that ship with Drake
(`examples/acrobot/Acrobot.urdf`, `examples/multibody/cart_pole/cart_pole.sdf`, `examples/pendulum/Pendulum.urdf`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from underact.plants.base import Plant
from underact.terms import ManipulatorTerms

GRAVITY = 9.81


@dataclass(frozen=True)
class AcrobotParams:
    """Link masses m, lengths l, centre-of-mass distances lc, inertias about the centres Ic, damping b."""

    m1: float = 1.0
    m2: float = 1.0
    l1: float = 1.0
    l2: float = 2.0
    lc1: float = 0.5
    lc2: float = 1.0
    Ic1: float = 0.083
    Ic2: float = 0.33
    b1: float = 0.1
    b2: float = 0.1
    gravity: float = GRAVITY
    u_limit: float = 20.0


@dataclass(frozen=True)
class CartPoleParams:
    """Cart mass mc, pole point-mass mp at distance l from the pin, damping b_x (cart) and b_theta (pin)."""

    mc: float = 10.0
    mp: float = 1.0
    l: float = 0.5  # noqa: E741 - the textbook's name
    b_x: float = 0.0
    b_theta: float = 0.0
    gravity: float = GRAVITY
    u_limit: float = 200.0


@dataclass(frozen=True)
class PendulumParams:
    """Point mass m at distance l, damping b."""

    m: float = 1.0
    l: float = 0.5  # noqa: E741 - the textbook's name
    b: float = 0.1
    gravity: float = GRAVITY
    u_limit: float = 3.0


#: Parameters that must be strictly positive (masses, lengths, the pole's pin distance, inertias, the input limit);
#: every other one (centre-of-mass distances, damping, gravity) must be >= 0. All must be finite and at most
#: PARAM_MAX, and positive ones at least PARAM_MIN (SI units): beyond these the model is a typo, not physics.
POSITIVE = frozenset({"m", "m1", "m2", "mc", "mp", "l", "l1", "l2", "Ic1", "Ic2", "u_limit"})
PARAM_MIN, PARAM_MAX = 1e-6, 1e6


def _check_param(system: str, name: str, value, per_copy: bool) -> float | np.ndarray:
    """One parameter as a float (or a float64 (N,) array where `per_copy`), or a one-line ValueError."""
    what = "a number or a sequence with one number per copy" if per_copy else "a number"
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        arr = np.asarray(None)
    if arr.dtype.kind not in "iuf" or arr.ndim > int(per_copy) or arr.size == 0:
        raise ValueError(f"{system} parameter {name} must be {what}; got {value!r}")
    arr = arr.astype(np.float64)
    low = PARAM_MIN if name in POSITIVE else 0.0
    if not np.all((arr >= low) & (arr <= PARAM_MAX)):  # false for NaN too
        raise ValueError(f"{system} parameter {name} must be finite and in [{low:g}, {PARAM_MAX:g}]; got {value!r}")
    return arr if arr.ndim else float(arr)


def make_params(cls, overrides: dict, per_copy: bool = False):
    """A params dataclass with `overrides`, each checked; unknown names or bad values raise a one-line ValueError.

    Values must be real numbers (not bools, strings or complex), finite and within the ranges of `POSITIVE`,
    `PARAM_MIN` and `PARAM_MAX`. With `per_copy` (the environments), each but u_limit may instead be a sequence
    of numbers, one per copy of a vector environment; it comes back as a float64 array.
    """
    known = {f.name for f in fields(cls)}
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"unknown {cls.__name__} parameter(s) {sorted(unknown)}; known: {sorted(known)}")
    system = SYSTEM_NAMES[cls]
    return cls(**{k: _check_param(system, k, v, per_copy and k != "u_limit") for k, v in overrides.items()})


class _Analytic(Plant):
    """Shared set-up of the closed-form plants."""

    backend = "analytic"

    def _set_common(self, nq: int, nu: int, vnames, anames, b, u_limit, upright, angles):
        self.nq = self.nv = nq
        self.nu = nu
        self.velocity_names = list(vnames)
        self.actuator_names = list(anames)
        self.b = np.asarray(b, dtype=np.float64)
        self.u_limit = np.full(nu, float(u_limit))
        self.upright = np.asarray(upright, dtype=np.float64)
        self.q_rest = np.zeros(nq)
        self.angle_mask = np.array(angles, dtype=bool)


class AcrobotPlant(_Analytic):
    """Two-link planar arm, shoulder passive, elbow actuated (Spong's acrobot). q = (θ1, θ2), θ2 relative."""

    def __init__(self, params: AcrobotParams | None = None):
        self.params = params or AcrobotParams()
        self.name = "acrobot"
        p = self.params
        self._set_common(2, 1, ["shoulder", "elbow"], ["elbow"], [p.b1, p.b2], p.u_limit, [np.pi, 0.0], [True, True])

    def _terms(self, q, v):
        p = self.params
        I1 = p.Ic1 + p.m1 * p.lc1**2  # inertia about the shoulder
        I2 = p.Ic2 + p.m2 * p.lc2**2  # inertia about the elbow
        s1, s2 = np.sin(q[:, 0]), np.sin(q[:, 1])
        c2 = np.cos(q[:, 1])
        s12 = np.sin(q[:, 0] + q[:, 1])
        h = p.m2 * p.l1 * p.lc2
        n = len(q)
        M = np.empty((n, 2, 2))
        M[:, 0, 0] = I1 + I2 + p.m2 * p.l1**2 + 2 * h * c2
        M[:, 0, 1] = M[:, 1, 0] = I2 + h * c2
        M[:, 1, 1] = I2
        v1, v2 = v[:, 0], v[:, 1]
        Cv = np.stack([-2 * h * s2 * v1 * v2 - h * s2 * v2**2, h * s2 * v1**2], axis=-1)
        g = p.gravity
        tau_g = np.stack(
            [-p.m1 * g * p.lc1 * s1 - p.m2 * g * (p.l1 * s1 + p.lc2 * s12), -p.m2 * g * p.lc2 * s12], axis=-1
        )
        B = np.broadcast_to(np.array([[0.0], [1.0]]), (n, 2, 1)).copy()
        return ManipulatorTerms(M, Cv, tau_g, B)

    def _potential(self, q):
        p = self.params
        c1, c12 = np.cos(q[:, 0]), np.cos(q[:, 0] + q[:, 1])
        # Heights relative to the shoulder are −lc1 cos θ1 and −l1 cos θ1 − lc2 cos(θ1+θ2); zero when hanging.
        return p.gravity * (p.m1 * p.lc1 * (1 - c1) + p.m2 * (p.l1 * (1 - c1) + p.lc2 * (1 - c12)))


class CartPolePlant(_Analytic):
    """Cart on a rail pushed by a force, pole on a passive pin. q = (x, θ), θ = 0 hanging, θ = π upright."""

    def __init__(self, params: CartPoleParams | None = None):
        self.params = params or CartPoleParams()
        self.name = "cartpole"
        p = self.params
        self._set_common(2, 1, ["x", "theta"], ["x"], [p.b_x, p.b_theta], p.u_limit, [0.0, np.pi], [False, True])

    def _terms(self, q, v):
        p = self.params
        s, c = np.sin(q[:, 1]), np.cos(q[:, 1])
        n = len(q)
        M = np.empty((n, 2, 2))
        M[:, 0, 0] = p.mc + p.mp
        M[:, 0, 1] = M[:, 1, 0] = p.mp * p.l * c
        M[:, 1, 1] = p.mp * p.l**2
        Cv = np.stack([-p.mp * p.l * s * v[:, 1] ** 2, np.zeros(n)], axis=-1)
        tau_g = np.stack([np.zeros(n), -p.mp * p.gravity * p.l * s], axis=-1)
        B = np.broadcast_to(np.array([[1.0], [0.0]]), (n, 2, 1)).copy()
        return ManipulatorTerms(M, Cv, tau_g, B)

    def _potential(self, q):
        p = self.params
        return p.mp * p.gravity * p.l * (1 - np.cos(q[:, 1]))

    def random_q(self, rng, n):
        return np.stack([rng.uniform(-2.0, 2.0, n), rng.uniform(-np.pi, np.pi, n)], axis=-1)


class PendulumPlant(_Analytic):
    """Simple pendulum, torque at the pivot. q = (θ,), θ = 0 hanging."""

    def __init__(self, params: PendulumParams | None = None):
        self.params = params or PendulumParams()
        self.name = "pendulum"
        p = self.params
        self._set_common(1, 1, ["theta"], ["theta"], [p.b], p.u_limit, [np.pi], [True])

    def _terms(self, q, v):
        p = self.params
        n = len(q)
        M = np.full((n, 1, 1), p.m * p.l**2)
        Cv = np.zeros((n, 1))
        tau_g = -p.m * p.gravity * p.l * np.sin(q)
        B = np.ones((n, 1, 1))
        return ManipulatorTerms(M, Cv, tau_g, B)

    def _potential(self, q):
        p = self.params
        return p.m * p.gravity * p.l * (1 - np.cos(q[:, 0]))


PARAMS = {"acrobot": AcrobotParams, "cartpole": CartPoleParams, "pendulum": PendulumParams}
SYSTEM_NAMES = {cls: name for name, cls in PARAMS.items()}
PLANTS = {"acrobot": AcrobotPlant, "cartpole": CartPolePlant, "pendulum": PendulumPlant}
