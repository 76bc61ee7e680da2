"""The parts MuJoCo models of the built-in systems are built from, with `mujoco.MjSpec`, from the same parameters as
the closed forms (each system's `mujoco_spec` in `underact.systems`).

Values are set on spec fields, never formatted into XML text, so no parameter can add elements or read files.
Geometry is visual only (contype = conaffinity = 0): the built-ins have no contacts, exactly like Drake's
examples. Inertials are explicit so MuJoCo does not infer mass from geoms.
"""

from __future__ import annotations

from underact.engines.mujoco import mujoco

TINY = 1e-12  # a point mass's rotational inertia; MuJoCo requires positive values
BLUE, RED = [0.2, 0.4, 0.8, 1.0], [0.8, 0.3, 0.2, 1.0]


def new_spec(name: str, gravity: float) -> mujoco.MjSpec:
    """An empty model: radians, gravity along −z, RK4 at 1 ms, geoms that never collide."""
    spec = mujoco.MjSpec()
    spec.modelname = name
    spec.compiler.degree = False
    spec.option.gravity = [0.0, 0.0, -gravity]
    spec.option.timestep = 0.001
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_RK4
    spec.default.geom.contype = 0
    spec.default.geom.conaffinity = 0
    spec.default.geom.rgba = BLUE
    return spec


def link(parent, name: str, joint: str, joint_type, axis, damping: float, mass: float, lc: float, inertia) -> object:
    """A body with one joint at its origin and its centre of mass at (0, 0, −lc)."""
    body = parent.add_body(name=name)
    body.add_joint(name=joint, type=joint_type, axis=axis, damping=damping)
    body.explicitinertial = True
    body.mass = mass
    body.ipos = [0.0, 0.0, -lc]
    body.inertia = inertia
    return body


def motor(spec: mujoco.MjSpec, joint: str) -> None:
    spec.add_actuator(name=joint, target=joint, trntype=mujoco.mjtTrn.mjTRN_JOINT).set_to_motor()


def capsule(body, length: float, radius: float, rgba=None) -> None:
    geom = body.add_geom(type=mujoco.mjtGeom.mjGEOM_CAPSULE, fromto=[0, 0, 0, 0, 0, -length], size=[radius, 0, 0])
    if rgba is not None:
        geom.rgba = rgba


def __getattr__(name: str):
    """`SPECS` (name → spec builder of every built-in) and `acrobot_spec` & co., read from `underact.systems`."""
    from underact import systems

    if name == "SPECS":
        return {n: systems.get(n).mujoco_spec for n in systems.names()}
    if name.endswith("_spec") and name[: -len("_spec")] in systems.names():
        return systems.get(name[: -len("_spec")]).mujoco_spec
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
