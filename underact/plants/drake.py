"""Drake backend: a continuous-time `MultibodyPlant` parsed from URDF, SDF or MJCF.

Cv = `CalcBiasTerm`, τg = `CalcGravityGeneralizedForces`, B = `MakeActuationMatrix`; joint damping is read from
the joints (`default_damping_vector`) and returned by `damping(v)`, never folded into Cv. pydrake is imported
here only, and lazily by `underact.load`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydrake.multibody.parsing import Parser
from pydrake.multibody.plant import MultibodyPlant
from pydrake.multibody.tree import JointActuatorIndex, JointIndex

from underact.errors import UnderactError
from underact.plants.base import Plant
from underact.terms import ManipulatorTerms


def drake_examples_dir() -> Path:
    """The example models that ship inside the drake wheel (no download needed)."""
    import pydrake

    return Path(pydrake.__file__).parent / "share" / "drake" / "examples"


BUILTIN_FILES = {
    "acrobot": "acrobot/Acrobot.urdf",
    "cartpole": "multibody/cart_pole/cart_pole.sdf",
    "pendulum": "pendulum/Pendulum.urdf",
}


def _velocity_names(plant: MultibodyPlant) -> list[str]:
    """The joint's name for one-velocity joints, Drake's `joint_suffix` names for the others."""
    names = list(plant.GetVelocityNames(add_model_instance_prefix=False))
    for i in range(plant.num_joints()):
        joint = plant.get_joint(JointIndex(i))
        if joint.num_velocities() == 1:
            names[joint.velocity_start()] = joint.name()
    return names


class DrakePlant(Plant):
    """Manipulator terms from a Drake `MultibodyPlant` (continuous time)."""

    backend = "drake"

    def __init__(self, plant: MultibodyPlant, name: str):
        self.plant = plant
        self.context = plant.CreateDefaultContext()
        self.name = name
        self.nq, self.nv, self.nu = plant.num_positions(), plant.num_velocities(), plant.num_actuators()
        self.velocity_names = _velocity_names(plant)
        actuators = [plant.get_joint_actuator(JointActuatorIndex(i)) for i in range(plant.num_actuators())]
        self.actuator_names = [a.name() for a in actuators]
        self.u_limit = np.array([a.effort_limit() for a in actuators], dtype=np.float64)
        self._B = np.asarray(plant.MakeActuationMatrix(), dtype=np.float64).reshape(self.nv, self.nu)
        self.b = np.zeros(self.nv)
        for i in range(plant.num_joints()):
            joint = plant.get_joint(JointIndex(i))
            if joint.num_velocities():
                start = joint.velocity_start()
                self.b[start : start + joint.num_velocities()] = joint.default_damping_vector()
        self.angle_mask = np.zeros(self.nq, dtype=bool)
        for i in range(plant.num_joints()):
            joint = plant.get_joint(JointIndex(i))
            if joint.type_name() in ("revolute", "continuous"):
                self.angle_mask[joint.position_start()] = True
        self.q_rest = plant.GetDefaultPositions().copy()
        self.upright = self.q_rest.copy()
        self._pe0 = 0.0
        self._pe0 = float(self._potential(self.q_rest[None])[0])

    @classmethod
    def from_file(cls, path: str | Path, name: str | None = None) -> DrakePlant:
        path = Path(path)
        plant = MultibodyPlant(time_step=0.0)
        try:
            Parser(plant).AddModels(str(path))
            plant.Finalize()
        except Exception as exc:  # Drake raises RuntimeError/ValueError with multi-line text
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UnderactError(f"{path}: Drake could not load the model: {first}") from None
        return cls(plant, name or path.stem)

    @classmethod
    def from_string(cls, text: str, file_type: str, name: str) -> DrakePlant:
        plant = MultibodyPlant(time_step=0.0)
        try:
            Parser(plant).AddModelsFromString(text, file_type)
            plant.Finalize()
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UnderactError(f"{name}: Drake could not load the model: {first}") from None
        return cls(plant, name)

    @classmethod
    def builtin(cls, name: str) -> DrakePlant:
        plant = cls.from_file(drake_examples_dir() / BUILTIN_FILES[name], name)
        upright = {"acrobot": [np.pi, 0.0], "cartpole": [0.0, np.pi], "pendulum": [np.pi]}[name]
        plant.upright = np.asarray(upright)
        if name == "acrobot":  # the URDF carries no effort limit; the textbook's swing-up uses |u| ≤ 20
            plant.u_limit = np.array([20.0])
        elif name == "cartpole":
            plant.u_limit = np.array([200.0])
        elif name == "pendulum":
            plant.u_limit = np.array([3.0])
        return plant

    def _set(self, q, v):
        self.plant.SetPositions(self.context, q)
        self.plant.SetVelocities(self.context, v)

    def _terms(self, q, v):
        n = len(q)
        M = np.empty((n, self.nv, self.nv))
        Cv = np.empty((n, self.nv))
        tau_g = np.empty((n, self.nv))
        for i in range(n):
            self._set(q[i], v[i])
            M[i] = self.plant.CalcMassMatrix(self.context)
            Cv[i] = self.plant.CalcBiasTerm(self.context)
            tau_g[i] = self.plant.CalcGravityGeneralizedForces(self.context)
        return ManipulatorTerms(M, Cv, tau_g, np.broadcast_to(self._B, (n, self.nv, self.nu)).copy())

    def _potential(self, q):
        out = np.empty(len(q))
        for i in range(len(q)):
            self.plant.SetPositions(self.context, q[i])
            out[i] = self.plant.CalcPotentialEnergy(self.context)
        return out - self._pe0

    def qdot(self, q, v):
        if self.nq == self.nv:
            return np.asarray(v, dtype=np.float64)
        q2, single = np.atleast_2d(q), np.ndim(q) == 1
        v2 = np.atleast_2d(v)
        out = np.empty_like(q2, dtype=np.float64)
        for i in range(len(q2)):
            self.plant.SetPositions(self.context, q2[i])
            out[i] = self.plant.MapVelocityToQDot(self.context, v2[i])
        return out[0] if single else out

    def random_q(self, rng, n):
        lo = np.clip(self.plant.GetPositionLowerLimits(), -np.pi, np.pi)
        hi = np.clip(self.plant.GetPositionUpperLimits(), -np.pi, np.pi)
        q = rng.uniform(lo, hi, size=(n, self.nq))
        for index in self.plant.GetFloatingBaseBodies():
            body = self.plant.get_body(index)
            if body.has_quaternion_dofs():
                s = body.floating_positions_start()
                quat = rng.normal(size=(n, 4))
                q[:, s : s + 4] = quat / np.linalg.norm(quat, axis=1, keepdims=True)
        return q
