"""Closed-form manipulator equations of the built-in systems, vectorised over a batch of states.

Equations and sign conventions follow Tedrake, "Underactuated Robotics" (2023), ch. 3 (acrobot, cart-pole) and
ch. 2 (pendulum); q = 0 hangs down. Default parameters are those of the models that ship with Drake
(`examples/acrobot/Acrobot.urdf`, `examples/multibody/cart_pole/cart_pole.sdf`, `examples/pendulum/Pendulum.urdf`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from underact.plants.base import Plant, as_batch
from underact.plants.trig import sin, sincos
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


# --- the closed forms, once ---------------------------------------------------------------------------------
# Each system's M, Cv and τg are written once, on state components (q1, q2, v1, v2), with the body's constants
# cached in a tuple `c` (`*_constants`). The same functions serve a float, numpy arrays (a batch, or per-copy
# constants as arrays) and, registered with numba by `underact.simulate.rk4`, the compiled step kernels, where
# `sincos` and `sin` (`underact.plants.trig`) become a polynomial the compiler vectorises over copies.


def solve2(m11, m12, m22, r1, r2):
    """The 2 × 2 symmetric system [[m11, m12], [m12, m22]] a = r, solved with the explicit inverse."""
    inv_det = 1.0 / (m11 * m22 - m12 * m12)  # one division: the slowest instruction of the vectorised RK4
    return (m22 * r1 - m12 * r2) * inv_det, (m11 * r2 - m12 * r1) * inv_det


def acrobot_constants(p: AcrobotParams) -> tuple:
    """(I2, M11 at θ2 = π/2, m2 l1 lc2, (m1 lc1 + m2 l1) g, m2 lc2 g, b1, b2): floats, or arrays per copy."""
    I2 = p.Ic2 + p.m2 * p.lc2**2  # inertia of link 2 about the elbow
    M11_0 = p.Ic1 + p.m1 * p.lc1**2 + I2 + p.m2 * p.l1**2
    g1, g2 = (p.m1 * p.lc1 + p.m2 * p.l1) * p.gravity, p.m2 * p.lc2 * p.gravity
    return I2, M11_0, p.m2 * p.l1 * p.lc2, g1, g2, p.b1, p.b2


def acrobot_terms(q1, q2, v1, v2, c):
    """Tedrake ch. 3.1: (M11, M12, M22, Cv1, Cv2, τg1, τg2) of the acrobot; B = [0, 1]ᵀ.

    M = [[I1 + I2 + m2 l1² + 2 m2 l1 lc2 c2,  I2 + m2 l1 lc2 c2], [I2 + m2 l1 lc2 c2,  I2]]
    Cv = [−2 m2 l1 lc2 s2 θ̇1 θ̇2 − m2 l1 lc2 s2 θ̇2²,  m2 l1 lc2 s2 θ̇1²]
    τg = [−m1 g lc1 s1 − m2 g (l1 s1 + lc2 s12),  −m2 g lc2 s12]
    """
    I2, M11_0, h, g1, g2 = c[0], c[1], c[2], c[3], c[4]
    s2, c2 = sincos(q2)
    hc2, hs2 = h * c2, h * s2
    tg2 = -g2 * sin(q1 + q2)
    return M11_0 + 2.0 * hc2, I2 + hc2, I2, -hs2 * v2 * (2.0 * v1 + v2), hs2 * v1 * v1, tg2 - g1 * sin(q1), tg2


def acrobot_coriolis(q2, v1, v2, c):
    """The acrobot's C in Christoffel form, (C11, C12, C21, C22), so that Ṁ − 2C is skew-symmetric.

    With h = m2 l1 lc2 and M depending on θ2 only (∂M11/∂θ2 = −2 h s2, ∂M12/∂θ2 = −h s2),
    Γ_ijk = ½(∂M_ij/∂q_k + ∂M_ik/∂q_j − ∂M_jk/∂q_i) gives C = h s2 [[−θ̇2, −(θ̇1 + θ̇2)], [θ̇1, 0]]. Tedrake's
    printed C = h s2 [[−2 θ̇2, −θ̇2], [θ̇1, 0]] has the same C v but is not skew-compatible.
    """
    hs2 = c[2] * np.sin(q2)
    return -hs2 * v2, -hs2 * (v1 + v2), hs2 * v1, 0.0 * v1


def acrobot_vdot(q1, q2, v1, v2, u, c):
    """(θ̈1, θ̈2) = M⁻¹(τg − Cv − b ⊙ θ̇ + B u), u the elbow torque."""
    m11, m12, m22, cv1, cv2, tg1, tg2 = acrobot_terms(q1, q2, v1, v2, c)
    return solve2(m11, m12, m22, tg1 - cv1 - c[5] * v1, tg2 - cv2 - c[6] * v2 + u)


def cartpole_constants(p: CartPoleParams) -> tuple:
    """(mc + mp, mp l², mp l, mp l g, b_x, b_theta): floats, or arrays per copy."""
    return p.mc + p.mp, p.mp * p.l**2, p.mp * p.l, p.mp * p.l * p.gravity, p.b_x, p.b_theta


def cartpole_terms(x, theta, xd, thetad, c):
    """Tedrake ch. 3.2: (M11, M12, M22, Cv1, Cv2, τg1, τg2) of the cart-pole; B = [1, 0]ᵀ.

    M = [[mc + mp, mp l cos θ], [mp l cos θ, mp l²]],   Cv = [−mp l sin θ θ̇², 0],   τg = [0, −mp g l sin θ]
    """
    s, cos_theta = sincos(theta)
    return c[0], c[2] * cos_theta, c[1], -c[2] * s * thetad * thetad, 0.0, 0.0, -c[3] * s


def cartpole_coriolis(theta, thetad, c):
    """The cart-pole's C in Christoffel form (C11, C12, C21, C22) = (0, −mp l sin θ θ̇, 0, 0) (the book's, which
    is already skew-compatible: Ṁ12 = −mp l sin θ θ̇ = C12 + C21)."""
    zero = 0.0 * thetad
    return zero, -c[2] * np.sin(theta) * thetad, zero, zero


def cartpole_vdot(x, theta, xd, thetad, u, c):
    """(ẍ, θ̈) = M⁻¹(τg − Cv − b ⊙ v + B u), u the force on the cart."""
    m11, m12, m22, cv1, cv2, tg1, tg2 = cartpole_terms(x, theta, xd, thetad, c)
    return solve2(m11, m12, m22, tg1 - cv1 - c[4] * xd + u, tg2 - cv2 - c[5] * thetad)


def pendulum_constants(p: PendulumParams) -> tuple:
    """(m l², m g l, b): floats, or arrays per copy."""
    return p.m * p.l**2, p.m * p.gravity * p.l, p.b


def pendulum_vdot(theta, thetad, u, c):
    """Tedrake ch. 2: θ̈ = (−m g l sin θ − b θ̇ + u) / (m l²); M = m l², Cv = 0, τg = −m g l sin θ, B = 1."""
    return (-c[1] * sin(theta) - c[2] * thetad + u) / c[0]


def acrobot_points(l1, l2, q1, q2) -> tuple:
    """Forward kinematics: elbow (x, y) and tip (x, y) in metres from the shoulder, y up; q = 0 hangs down."""
    s1, c1 = sincos(q1)
    s12, c12 = sincos(q1 + q2)
    elbow_x, elbow_y = l1 * s1, -l1 * c1
    return elbow_x, elbow_y, elbow_x + l2 * s12, elbow_y - l2 * c12


def pole_tip(length, x, theta) -> tuple:
    """Forward kinematics of a pole of `length` on a pin at (x, 0) (the cart-pole, or a pendulum at x = 0)."""
    return x + length * np.sin(theta), -length * np.cos(theta)


class _Analytic(Plant):
    """Shared set-up of the closed-form plants: `vdot` reads the component closed form directly."""

    backend = "analytic"
    constants: tuple

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

    def vdot(self, q, v, u) -> np.ndarray:
        """Forward dynamics v̇ = M⁻¹(τg − Cv + damping(v) + B u), batched like `terms` (explicit 2 × 2 inverse)."""
        qb, single = as_batch(q, self.nq, "q")
        vb, _ = as_batch(v, self.nv, "v")
        if len(qb) != len(vb):
            raise ValueError(f"q and v must have the same batch size; got {len(qb)} and {len(vb)}")
        ub = np.broadcast_to(np.asarray(u, dtype=np.float64), (len(qb), self.nu))[:, 0]
        a = np.stack(self._vdot(qb, vb, ub), axis=-1)
        return a[0] if single else a


class AcrobotPlant(_Analytic):
    """Two-link planar arm, shoulder passive, elbow actuated (Spong's acrobot). q = (θ1, θ2), θ2 relative."""

    def __init__(self, params: AcrobotParams | None = None):
        self.params = params or AcrobotParams()
        self.name = "acrobot"
        p = self.params
        self.constants = acrobot_constants(p)
        self._set_common(2, 1, ["shoulder", "elbow"], ["elbow"], [p.b1, p.b2], p.u_limit, [np.pi, 0.0], [True, True])

    def _vdot(self, q, v, u):
        return acrobot_vdot(q[:, 0], q[:, 1], v[:, 0], v[:, 1], u, self.constants)

    def _terms(self, q, v):
        return _terms2(acrobot_terms(q[:, 0], q[:, 1], v[:, 0], v[:, 1], self.constants), [[0.0], [1.0]], len(q))

    def _coriolis(self, q, v):
        return _matrix2(acrobot_coriolis(q[:, 1], v[:, 0], v[:, 1], self.constants), len(q))

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
        self.constants = cartpole_constants(p)
        self._set_common(2, 1, ["x", "theta"], ["x"], [p.b_x, p.b_theta], p.u_limit, [0.0, np.pi], [False, True])

    def _vdot(self, q, v, u):
        return cartpole_vdot(q[:, 0], q[:, 1], v[:, 0], v[:, 1], u, self.constants)

    def _terms(self, q, v):
        return _terms2(cartpole_terms(q[:, 0], q[:, 1], v[:, 0], v[:, 1], self.constants), [[1.0], [0.0]], len(q))

    def _coriolis(self, q, v):
        return _matrix2(cartpole_coriolis(q[:, 1], v[:, 1], self.constants), len(q))

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
        self.constants = pendulum_constants(p)
        self._set_common(1, 1, ["theta"], ["theta"], [p.b], p.u_limit, [np.pi], [True])

    def _vdot(self, q, v, u):
        return (pendulum_vdot(q[:, 0], v[:, 0], u, self.constants),)

    def _terms(self, q, v):
        n = len(q)
        ml2, mgl = self.constants[0], self.constants[1]
        return ManipulatorTerms(
            np.full((n, 1, 1), ml2), np.zeros((n, 1)), -mgl * np.sin(q), np.ones((n, 1, 1))
        )

    def _coriolis(self, q, v):
        return np.zeros((len(q), 1, 1))  # M is constant: C = 0

    def _potential(self, q):
        p = self.params
        return p.m * p.gravity * p.l * (1 - np.cos(q[:, 0]))


def _terms2(parts: tuple, B, n: int) -> ManipulatorTerms:
    """ManipulatorTerms (batch n) of a two-DoF system from its closed form's (M11, M12, M22, Cv1, Cv2, τg1, τg2)."""
    m11, m12, m22, cv1, cv2, tg1, tg2 = (np.broadcast_to(part, (n,)) for part in parts)
    M = np.stack([np.stack([m11, m12], -1), np.stack([m12, m22], -1)], -2)
    return ManipulatorTerms(
        M, np.stack([cv1, cv2], -1), np.stack([tg1, tg2], -1), np.broadcast_to(np.array(B), (n, 2, 1)).copy()
    )


def _matrix2(parts: tuple, n: int) -> np.ndarray:
    """A batch (n, 2, 2) of matrices from their entries (a11, a12, a21, a22)."""
    a11, a12, a21, a22 = (np.broadcast_to(part, (n,)) for part in parts)
    return np.stack([np.stack([a11, a12], -1), np.stack([a21, a22], -1)], -2)


PARAMS = {"acrobot": AcrobotParams, "cartpole": CartPoleParams, "pendulum": PendulumParams}
SYSTEM_NAMES = {cls: name for name, cls in PARAMS.items()}
PLANTS = {"acrobot": AcrobotPlant, "cartpole": CartPolePlant, "pendulum": PendulumPlant}
