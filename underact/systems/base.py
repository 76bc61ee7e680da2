"""What every built-in system's record is made of: the `System` record, the parameter checks and the closed-form
plant they share.

A built-in system is one module of `underact.systems` that defines one `System` (its `SYSTEM`); the stages read
the record through the registry (`underact.systems.get`), never a table keyed by the system's name:

- plants: `params` (a frozen dataclass), `plant` (the closed form as a `Plant`), `mujoco_spec(params)`,
  `drake_plant(params, overridden)` and `pinocchio_plant(params)` (its engine models, built from the same
  parameters or, where `drake_takes_params` is false, Drake's shipped file), `drake_file(params)` (the
  description file `underact view` shows);
- the compiled steps: `constants(params)` and `vdot(q1, q2, v1, v2, u, c)` on state components, and `jit` and
  `jit_inline` (the functions numba must know: `underact.simulate.rk4.prepare`);
- names, upright pose and angle mask live on the closed-form plant (`plant().velocity_names`, `upright`,
  `angle_mask`), the engines' models are given them by `underact.load`;
- drawing: `scene(params, **task_options)` (an `underact.render.Scene`) and `follow_x` (a camera that follows the
  first coordinate in animations);
- control: `swing_up(plant, u_limit)`, `lqr` (the balancing LQR's weights) and `switch` (the LQR cost-to-go
  below which balance takes over);
- environments: `task` (`TaskDefaults`: dt, substeps, observation layout, `observe`, its inverse `unobserve`,
  `outcome` and its constants, defaults of the task arguments).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from underact.plants.base import Plant, as_batch
from underact.plants.trig import sincos
from underact.terms import ManipulatorTerms

GRAVITY = 9.81
#: Positive parameters must be at least PARAM_MIN, every parameter finite and at most PARAM_MAX (SI units):
#: beyond these the model is a typo, not physics. Which ones are positive each params class says (`POSITIVE`).
PARAM_MIN, PARAM_MAX = 1e-6, 1e6


@dataclass(frozen=True)
class TaskDefaults:
    """A system's environments: steps, observation and outcome (all functions of state components, registered
    with numba by the environments' compiled step), and the defaults of the task's arguments.

    `observe(q1, q2, v1, v2)` gives the observation's entries, `unobserve(obs)` the (q, v) they came from (the
    reference controllers act from observations), `outcome(q1, q2, v1, v2, k)` gives (reward, terminated) with
    `k = outcome_constants(task)` (a tuple read from the `underact.envs.task.Task`: its params, goal, fall_angle,
    max_speed and options)."""

    dt: float
    substeps: int
    trig_obs: tuple[bool, ...]  # which observation entries are cosines or sines (bounded by ±1)
    n_position_obs: int  # how many leading observation entries depend on positions only
    observe: Callable
    unobserve: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    outcome: Callable
    outcome_constants: Callable[[Any], tuple]
    fall_angle: float
    reset_noise: float = 0.05
    max_speed: float = 8 * np.pi
    #: The title of the Gymnasium ids: `underact/{title}SwingUp-v0`, `underact/{title}Balance-v0`.
    title: str = ""


@dataclass(frozen=True)
class System:
    """One built-in system: everything every stage needs to know about it (see the module docstring)."""

    name: str
    params: type
    plant: Callable[..., Plant]
    constants: Callable[[Any], tuple]
    vdot: Callable
    mujoco_spec: Callable[[Any], Any]
    drake_plant: Callable[[Any, bool], Plant]
    drake_file: Callable[[Any], Any]
    scene: Callable[..., Any]
    jit: tuple[Callable, ...] = ()
    jit_inline: tuple[Callable, ...] = ()
    swing_up: Callable | None = None
    switch: float | None = None
    #: The balancing LQR's weights as `LQRController` keywords (Q, R); empty: its defaults.
    lqr: dict = field(default_factory=dict, hash=False, compare=False)
    task: TaskDefaults | None = None
    pinocchio_plant: Callable[[Any], Plant] | None = None
    follow_x: bool = False
    #: Whether Drake's model is built from the parameters (else it is a shipped file: overrides are refused).
    drake_takes_params: bool = False
    doc: str = field(default="", repr=False)


def _check_param(system: str, name: str, value, positive: bool, per_copy: bool) -> float | np.ndarray:
    """One parameter as a float (or a float64 (N,) array where `per_copy`), or a one-line ValueError."""
    what = "a number or a sequence with one number per copy" if per_copy else "a number"
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        arr = np.asarray(None)
    if arr.dtype.kind not in "iuf" or arr.ndim > int(per_copy) or arr.size == 0:
        raise ValueError(f"{system} parameter {name} must be {what}; got {value!r}")
    arr = arr.astype(np.float64)
    low = PARAM_MIN if positive else 0.0
    if not np.all((arr >= low) & (arr <= PARAM_MAX)):  # false for NaN too
        raise ValueError(f"{system} parameter {name} must be finite and in [{low:g}, {PARAM_MAX:g}]; got {value!r}")
    return arr if arr.ndim else float(arr)


def make_params(cls, overrides: dict, per_copy: bool = False):
    """A params dataclass with `overrides`, each checked; unknown names or bad values raise a one-line ValueError.

    Values must be real numbers (not bools, strings or complex), finite and within [PARAM_MIN, PARAM_MAX] for the
    class's `POSITIVE` names, [0, PARAM_MAX] for the others. With `per_copy` (the environments), each but u_limit
    may instead be a sequence of numbers, one per copy of a vector environment; it comes back as a float64 array.
    """
    known = {f.name for f in fields(cls)}
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"unknown {cls.__name__} parameter(s) {sorted(unknown)}; known: {sorted(known)}")
    system, positive = cls.SYSTEM, cls.POSITIVE
    return cls(
        **{k: _check_param(system, k, v, k in positive, per_copy and k != "u_limit") for k, v in overrides.items()}
    )


def observe_angles(q1, q2, v1, v2) -> tuple:
    """The observation of two revolute joints: (cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2)."""
    s1, c1 = sincos(q1)
    s2, c2 = sincos(q2)
    return c1, s1, c2, s2, v1, v2


def unobserve_angles(obs) -> tuple[np.ndarray, np.ndarray]:
    """(q, v) from an `observe_angles` observation."""
    obs = np.asarray(obs, dtype=np.float64)
    return np.array([np.arctan2(obs[1], obs[0]), np.arctan2(obs[3], obs[2])]), obs[4:6]


def solve2(m11, m12, m22, r1, r2):
    """The 2 × 2 symmetric system [[m11, m12], [m12, m22]] a = r, solved with the explicit inverse."""
    inv_det = 1.0 / (m11 * m22 - m12 * m12)  # one division: the slowest instruction of the vectorised RK4
    return (m22 * r1 - m12 * r2) * inv_det, (m11 * r2 - m12 * r1) * inv_det


class AnalyticPlant(Plant):
    """Shared set-up of the closed-form plants: `vdot` reads the component closed form directly."""

    backend = "analytic"
    constants: tuple

    def _set_common(self, name: str, vnames, anames, b, u_limit, upright, angles):
        self.name = name
        self.nq = self.nv = len(vnames)
        self.nu = len(anames)
        self.velocity_names = list(vnames)
        self.actuator_names = list(anames)
        self.b = np.asarray(b, dtype=np.float64)
        self.u_limit = np.full(self.nu, float(u_limit))
        self.upright = np.asarray(upright, dtype=np.float64)
        self.q_rest = np.zeros(self.nq)
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


class TwoDofPlant(AnalyticPlant):
    """A two-DoF closed form given as component functions: `_parts(q1, q2, v1, v2, c)` → (M11, M12, M22, Cv1, Cv2,
    τg1, τg2), `_vdot_parts(q1, q2, v1, v2, u, c)` → (v̇1, v̇2), `_coriolis_parts(q1, q2, v1, v2, c)` → (C11, C12,
    C21, C22), and the constant B `_B` (2, 1)."""

    _B: list

    def _vdot(self, q, v, u):
        return type(self)._vdot_parts(q[:, 0], q[:, 1], v[:, 0], v[:, 1], u, self.constants)

    def _terms(self, q, v):
        parts = type(self)._parts(q[:, 0], q[:, 1], v[:, 0], v[:, 1], self.constants)
        return terms2(parts, self._B, len(q))

    def _coriolis(self, q, v):
        return matrix2(type(self)._coriolis_parts(q[:, 0], q[:, 1], v[:, 0], v[:, 1], self.constants), len(q))


def terms2(parts: tuple, B, n: int) -> ManipulatorTerms:
    """ManipulatorTerms (batch n) of a two-DoF system from its closed form's (M11, M12, M22, Cv1, Cv2, τg1, τg2)."""
    m11, m12, m22, cv1, cv2, tg1, tg2 = (np.broadcast_to(part, (n,)) for part in parts)
    M = np.stack([np.stack([m11, m12], -1), np.stack([m12, m22], -1)], -2)
    return ManipulatorTerms(
        M, np.stack([cv1, cv2], -1), np.stack([tg1, tg2], -1), np.broadcast_to(np.array(B), (n, 2, 1)).copy()
    )


def matrix2(parts: tuple, n: int) -> np.ndarray:
    """A batch (n, 2, 2) of matrices from their entries (a11, a12, a21, a22)."""
    a11, a12, a21, a22 = (np.broadcast_to(part, (n,)) for part in parts)
    return np.stack([np.stack([a11, a12], -1), np.stack([a21, a22], -1)], -2)
