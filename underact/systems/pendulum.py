"""The simple pendulum: a point mass on a pin, a torque at the pin.

Tedrake, "Underactuated Robotics" (2023), ch. 2; q = (θ,), θ = 0 hanging. Default parameters are those of
Drake's `examples/pendulum/Pendulum.urdf`, which is also its Drake model. Fully actuated: no swing-up
controller and no environments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from underact.plants.trig import sin
from underact.systems.base import GRAVITY, AnalyticPlant, System
from underact.terms import ManipulatorTerms


@dataclass(frozen=True)
class PendulumParams:
    """Point mass m at distance l, damping b."""

    SYSTEM: ClassVar[str] = "pendulum"
    POSITIVE: ClassVar[frozenset] = frozenset({"m", "l", "u_limit"})

    m: float = 1.0
    l: float = 0.5  # noqa: E741 - the textbook's name
    b: float = 0.1
    gravity: float = GRAVITY
    u_limit: float = 3.0


def pendulum_constants(p: PendulumParams) -> tuple:
    """(m l², m g l, b): floats, or arrays per copy."""
    return p.m * p.l**2, p.m * p.gravity * p.l, p.b


def pendulum_vdot(theta, thetad, u, c):
    """Tedrake ch. 2: θ̈ = (−m g l sin θ − b θ̇ + u) / (m l²); M = m l², Cv = 0, τg = −m g l sin θ, B = 1."""
    return (-c[1] * sin(theta) - c[2] * thetad + u) / c[0]


class PendulumPlant(AnalyticPlant):
    """Simple pendulum, torque at the pivot. q = (θ,), θ = 0 hanging."""

    def __init__(self, params: PendulumParams | None = None):
        self.params = p = params or PendulumParams()
        self.constants = pendulum_constants(p)
        self._set_common("pendulum", ["theta"], ["theta"], [p.b], p.u_limit, [np.pi], [True])

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


def pendulum_spec(p: PendulumParams):
    """MuJoCo: a point mass on a hinge about y with a motor."""
    from underact.engines.mujoco import mujoco
    from underact.plants.builtin_mjcf import TINY, capsule, link, motor, new_spec

    spec = new_spec("pendulum", p.gravity)
    arm = link(spec.worldbody, "arm", "theta", mujoco.mjtJoint.mjJNT_HINGE, [0, 1, 0], p.b, p.m, p.l, [TINY] * 3)
    capsule(arm, p.l, 0.02)
    motor(spec, "theta")
    return spec


#: Drake's model: the shipped example file (its parameters are the defaults; overrides go to analytic or mujoco).
DRAKE_FILE = "pendulum/Pendulum.urdf"


def drake_plant(p: PendulumParams, overridden: bool = False):
    from underact.plants.drake import shipped_builtin

    return shipped_builtin("pendulum", DRAKE_FILE, [np.pi], p.u_limit)


def drake_file(p: PendulumParams):
    from underact.plants.drake import drake_examples_dir

    return drake_examples_dir() / DRAKE_FILE


def pinocchio_plant(p: PendulumParams):
    from underact.plants.pinocchio import PinocchioPlant

    return PinocchioPlant.planar("pendulum", [("theta", "revolute", 0.0, p.m, p.l, 0.0)], [p.b], "theta",
                                 p.u_limit, p.gravity)


def pendulum_scene(p, **options):
    from underact.render import PendulumScene

    return PendulumScene(p.l)


SYSTEM = System(
    name="pendulum",
    params=PendulumParams,
    plant=PendulumPlant,
    constants=pendulum_constants,
    vdot=pendulum_vdot,
    mujoco_spec=pendulum_spec,
    drake_plant=drake_plant,
    drake_file=drake_file,
    pinocchio_plant=pinocchio_plant,
    scene=pendulum_scene,
    doc=__doc__,
)
