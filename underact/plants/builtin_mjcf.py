"""MJCF text for the built-in systems, generated from the same parameters as the closed-form models.

Geometry is visual only (contype = conaffinity = 0): the built-ins have no contacts, exactly like Drake's
examples. Inertial elements are explicit so MuJoCo does not infer mass from geoms.
"""

from __future__ import annotations

from underact.plants.analytic import AcrobotParams, CartPoleParams, PendulumParams

_HEADER = """<mujoco model="{name}">
  <compiler angle="radian"/>
  <option gravity="0 0 -{g}" timestep="0.001" integrator="RK4"/>
  <default><geom contype="0" conaffinity="0" rgba="0.2 0.4 0.8 1"/></default>
  <worldbody>
"""
_TINY = 1e-12  # a point mass's rotational inertia; MuJoCo requires positive values


def acrobot_mjcf(p: AcrobotParams) -> str:
    return (
        _HEADER.format(name="acrobot", g=p.gravity)
        + f"""    <body name="upper_link">
      <joint name="shoulder" type="hinge" axis="0 1 0" damping="{p.b1}"/>
      <inertial pos="0 0 {-p.lc1}" mass="{p.m1}" diaginertia="1 {p.Ic1} 1"/>
      <geom type="capsule" fromto="0 0 0 0 0 {-p.l1}" size="0.04"/>
      <body name="lower_link" pos="0 0 {-p.l1}">
        <joint name="elbow" type="hinge" axis="0 1 0" damping="{p.b2}"/>
        <inertial pos="0 0 {-p.lc2}" mass="{p.m2}" diaginertia="1 {p.Ic2} 1"/>
        <geom type="capsule" fromto="0 0 0 0 0 {-p.l2}" size="0.04" rgba="0.8 0.3 0.2 1"/>
      </body>
    </body>
  </worldbody>
  <actuator><motor name="elbow" joint="elbow" gear="1"/></actuator>
</mujoco>
"""
    )


def cartpole_mjcf(p: CartPoleParams) -> str:
    return (
        _HEADER.format(name="cartpole", g=p.gravity)
        + f"""    <body name="cart">
      <joint name="x" type="slide" axis="1 0 0" damping="{p.b_x}"/>
      <inertial pos="0 0 0" mass="{p.mc}" diaginertia="{_TINY} {_TINY} {_TINY}"/>
      <geom type="box" size="0.2 0.1 0.1"/>
      <body name="pole">
        <joint name="theta" type="hinge" axis="0 -1 0" damping="{p.b_theta}"/>
        <inertial pos="0 0 {-p.l}" mass="{p.mp}" diaginertia="{_TINY} {_TINY} {_TINY}"/>
        <geom type="capsule" fromto="0 0 0 0 0 {-p.l}" size="0.02" rgba="0.8 0.3 0.2 1"/>
      </body>
    </body>
  </worldbody>
  <actuator><motor name="x" joint="x" gear="1"/></actuator>
</mujoco>
"""
    )


def pendulum_mjcf(p: PendulumParams) -> str:
    return (
        _HEADER.format(name="pendulum", g=p.gravity)
        + f"""    <body name="arm">
      <joint name="theta" type="hinge" axis="0 1 0" damping="{p.b}"/>
      <inertial pos="0 0 {-p.l}" mass="{p.m}" diaginertia="{_TINY} {_TINY} {_TINY}"/>
      <geom type="capsule" fromto="0 0 0 0 0 {-p.l}" size="0.02"/>
    </body>
  </worldbody>
  <actuator><motor name="theta" joint="theta" gear="1"/></actuator>
</mujoco>
"""
    )


MJCF = {"acrobot": acrobot_mjcf, "cartpole": cartpole_mjcf, "pendulum": pendulum_mjcf}
