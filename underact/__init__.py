"""underact: underactuated robotics and learning control.

    from underact import load
    plant = load("acrobot", backend="drake")     # or "mujoco", "analytic", or a .urdf / .sdf / .xml path
    terms = plant.terms(q, v)                    # M, Cv, tau_g, B of  M v̇ + C v = τg + B u

Engines (pydrake, mujoco) are imported only when a plant of theirs is loaded.
"""

from underact.errors import UnderactError
from underact.plants import BACKENDS, BUILTINS, Plant, load
from underact.terms import ManipulatorTerms

__version__ = "0.1.0"
__all__ = ["BACKENDS", "BUILTINS", "ManipulatorTerms", "Plant", "UnderactError", "load"]
