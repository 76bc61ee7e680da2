"""The closed-form plants of the built-in systems, by their former import path.

Each system's closed form lives in its own module of `underact.systems` (parameters, float / batch / compiled
forms, engine models, scene, swing-up, environment defaults: one record). This module re-exports the names users
import from here, and `PARAMS` / `PLANTS` read the registry.
"""

from __future__ import annotations

from underact.systems import get, names
from underact.systems.acrobot import (
    AcrobotParams,
    AcrobotPlant,
    acrobot_constants,
    acrobot_coriolis,
    acrobot_points,
    acrobot_terms,
    acrobot_vdot,
)
from underact.systems.base import GRAVITY, PARAM_MAX, PARAM_MIN, make_params, solve2
from underact.systems.cartpole import (
    CartPoleParams,
    CartPolePlant,
    cartpole_constants,
    cartpole_coriolis,
    cartpole_terms,
    cartpole_vdot,
    pole_tip,
)
from underact.systems.pendulum import PendulumParams, PendulumPlant, pendulum_constants, pendulum_vdot

#: name → params class and name → closed-form plant class, of every built-in (read from `underact.systems`).
PARAMS = {name: get(name).params for name in names()}
PLANTS = {name: get(name).plant for name in names()}

__all__ = [
    "GRAVITY",
    "PARAMS",
    "PARAM_MAX",
    "PARAM_MIN",
    "PLANTS",
    "AcrobotParams",
    "AcrobotPlant",
    "CartPoleParams",
    "CartPolePlant",
    "PendulumParams",
    "PendulumPlant",
    "acrobot_constants",
    "acrobot_coriolis",
    "acrobot_points",
    "acrobot_terms",
    "acrobot_vdot",
    "cartpole_constants",
    "cartpole_coriolis",
    "cartpole_terms",
    "cartpole_vdot",
    "make_params",
    "pendulum_constants",
    "pendulum_vdot",
    "pole_tip",
    "solve2",
]
