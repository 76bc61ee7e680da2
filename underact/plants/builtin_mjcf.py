"""MuJoCo models of the built-in systems, built with `mujoco.MjSpec` from the same parameters as the closed forms.

Values are set on spec fields, never formatted into XML text, so no parameter can add elements or read files.
Geometry is visual only (contype = conaffinity = 0): the built-ins have no contacts, exactly like Drake's
examples. Inertials are explicit so MuJoCo does not infer mass from geoms.
"""

from __future__ import annotations

from collections.abc import Callable

import mujoco

from underact.plants.analytic import AcrobotParams, CartPoleParams, PendulumParams

_TINY = 1e-12  # a point mass's rotational inertia; MuJoCo requires positive values
_BLUE, _RED = [0.2, 0.4, 0.8, 1.0], [0.8, 0.3, 0.2, 1.0]


def _spec(name: str, gravity: float) -> mujoco.MjSpec:
    """An empty model: radians, gravity along −z, RK4 at 1 ms, geoms that never collide."""
    spec = mujoco.MjSpec()
    spec.modelname = name
    spec.compiler.degree = False
    spec.option.gravity = [0.0, 0.0, -gravity]
    spec.option.timestep = 0.001
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_RK4
    spec.default.geom.contype = 0
    spec.default.geom.conaffinity = 0
    spec.default.geom.rgba = _BLUE
    return spec


def _link(parent, name: str, joint: str, joint_type, axis, damping: float, mass: float, lc: float, inertia) -> object:
    """A body with one joint at its origin and its centre of mass at (0, 0, −lc)."""
    body = parent.add_body(name=name)
    body.add_joint(name=joint, type=joint_type, axis=axis, damping=damping)
    body.explicitinertial = True
    body.mass = mass
    body.ipos = [0.0, 0.0, -lc]
    body.inertia = inertia
    return body


def _motor(spec: mujoco.MjSpec, joint: str) -> None:
    spec.add_actuator(name=joint, target=joint, trntype=mujoco.mjtTrn.mjTRN_JOINT).set_to_motor()


def _capsule(body, length: float, radius: float, rgba=None) -> None:
    geom = body.add_geom(type=mujoco.mjtGeom.mjGEOM_CAPSULE, fromto=[0, 0, 0, 0, 0, -length], size=[radius, 0, 0])
    if rgba is not None:
        geom.rgba = rgba


def acrobot_spec(p: AcrobotParams) -> mujoco.MjSpec:
    """Shoulder (passive) and elbow (motor) hinges about y; inertias Ic about the centres of mass."""
    spec = _spec("acrobot", p.gravity)
    hinge = mujoco.mjtJoint.mjJNT_HINGE
    upper = _link(spec.worldbody, "upper_link", "shoulder", hinge, [0, 1, 0], p.b1, p.m1, p.lc1, [1.0, p.Ic1, 1.0])
    _capsule(upper, p.l1, 0.04)
    lower = _link(upper, "lower_link", "elbow", hinge, [0, 1, 0], p.b2, p.m2, p.lc2, [1.0, p.Ic2, 1.0])
    lower.pos = [0.0, 0.0, -p.l1]
    _capsule(lower, p.l2, 0.04, _RED)
    _motor(spec, "elbow")
    return spec


def cartpole_spec(p: CartPoleParams) -> mujoco.MjSpec:
    """Cart on a slide along x (motor), pole on a passive hinge about −y; point masses."""
    spec = _spec("cartpole", p.gravity)
    tiny = [_TINY] * 3
    cart = _link(spec.worldbody, "cart", "x", mujoco.mjtJoint.mjJNT_SLIDE, [1, 0, 0], p.b_x, p.mc, 0.0, tiny)
    cart.add_geom(type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.2, 0.1, 0.1])
    pole = _link(cart, "pole", "theta", mujoco.mjtJoint.mjJNT_HINGE, [0, -1, 0], p.b_theta, p.mp, p.l, tiny)
    _capsule(pole, p.l, 0.02, _RED)
    _motor(spec, "x")
    return spec


def pendulum_spec(p: PendulumParams) -> mujoco.MjSpec:
    """A point mass on a hinge about y with a motor."""
    spec = _spec("pendulum", p.gravity)
    arm = _link(spec.worldbody, "arm", "theta", mujoco.mjtJoint.mjJNT_HINGE, [0, 1, 0], p.b, p.m, p.l, [_TINY] * 3)
    _capsule(arm, p.l, 0.02)
    _motor(spec, "theta")
    return spec


SPECS: dict[str, Callable[..., mujoco.MjSpec]] = {
    "acrobot": acrobot_spec,
    "cartpole": cartpole_spec,
    "pendulum": pendulum_spec,
}
