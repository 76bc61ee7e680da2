"""Drake backend: a continuous-time `MultibodyPlant` parsed from URDF, SDF or MJCF.

Cv = `CalcBiasTerm`, τg = `CalcGravityGeneralizedForces`, B = `MakeActuationMatrix`; joint damping is read from
the joints (`default_damping_vector`) and returned by `damping(v)`, never folded into Cv. This module is imported
lazily by `underact.load`.

How Drake reads a model (`load_models`, `drake_urdf`, what its parser says: `drake_messages`) belongs to
`underact.engines.drake`, which `underact view` uses too; those names are importable from here as well.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from underact.engines.drake import (
    ExtractGradient,
    InitializeAutoDiff,
    JointActuatorIndex,
    JointIndex,
    MultibodyPlant,
    drake_examples_dir,
    drake_log_level,
    drake_messages,
    drake_urdf,
    load_models,
)
from underact.errors import UnderactError, one_line
from underact.plants.base import Plant
from underact.terms import ManipulatorTerms

__all__ = ["DrakePlant", "drake_examples_dir", "drake_log_level", "drake_messages", "drake_urdf", "load_models",
           "shipped_builtin"]


def __getattr__(name: str):
    """`BUILTIN_FILES`: the Drake example file of each built-in whose Drake model is a shipped file (each system
    module's `DRAKE_FILE`, `underact.systems`)."""
    if name == "BUILTIN_FILES":
        import importlib

        from underact.systems import BUILTINS

        modules = {n: importlib.import_module(line.module) for n, line in BUILTINS.items()}
        return {n: m.DRAKE_FILE for n, m in modules.items() if hasattr(m, "DRAKE_FILE")}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def shipped_builtin(name: str, file: str, upright, u_limit: float) -> DrakePlant:
    """A built-in whose Drake model is the example `file` shipped with Drake, with its `upright` pose and the
    effort limit of its closed form (the shipped files carry none)."""
    plant = DrakePlant.from_file(drake_examples_dir() / file, name)
    plant.upright = np.asarray(upright, dtype=np.float64)
    plant.u_limit = np.array([float(u_limit)])
    return plant


def _coordinate_names(plant: MultibodyPlant) -> tuple[list[str], list[str]]:
    """The joint's name for one-DoF joints, Drake's `joint_suffix` names for the others (a floating base is
    named after its body: `base_qw … base_z`, `base_wx … base_vz`)."""
    positions = list(plant.GetPositionNames(add_model_instance_prefix=False))
    velocities = list(plant.GetVelocityNames(add_model_instance_prefix=False))
    for i in range(plant.num_joints()):
        joint = plant.get_joint(JointIndex(i))
        if joint.num_velocities() == 1 and joint.num_positions() == 1:
            positions[joint.position_start()] = velocities[joint.velocity_start()] = joint.name()
    return positions, velocities


def _build(add_models, label: str, base: str = "auto", prepare=None) -> tuple[MultibodyPlant, list[str]]:
    """A new continuous-time plant from `load_models`, and what Drake's parser said; a massless floating base is
    refused."""
    plant = MultibodyPlant(time_step=0.0)
    messages = load_models(plant, add_models, label, base, prepare)
    _refuse_massless_bases(plant, label)
    return plant, messages


def _refuse_massless_bases(plant: MultibodyPlant, label: str) -> None:
    """A floating base whose welded group has no mass has no dynamics (its 6 DoF make M singular)."""
    for index in plant.GetFloatingBaseBodies():
        body = plant.get_body(index)
        mass = sum(b.default_mass() for b in plant.GetBodiesWeldedTo(body))
        if not mass > 0.0:
            raise UnderactError(
                f"{label}: floating base link '{body.name()}' has no mass (nor has anything welded to it), so it "
                "has no dynamics; bolt it to the world with --base fixed (load(..., base='fixed'))"
            )


class DrakePlant(Plant):
    """Manipulator terms from a Drake `MultibodyPlant` (continuous time).

    Copies and pickles rebuild the `MultibodyPlant` from its source (the file or text `from_file` / `from_string`
    parsed, the base mode, the `prepare` step; the text travels with a pickle, a file is read again) and then
    restore every other attribute, so a copy has its own plant and context and the same terms.
    """

    backend = "drake"
    #: (method, arguments) of the classmethod that built this plant; None for one made from a MultibodyPlant.
    _source: tuple[str, tuple] | None = None

    def __init__(self, plant: MultibodyPlant, name: str):
        self.plant = plant
        self.context = plant.CreateDefaultContext()
        self.name = name
        self.warnings = []
        self.parser_messages: list[str] = []  # what Drake's parser said (`load_models`)
        self.nq, self.nv, self.nu = plant.num_positions(), plant.num_velocities(), plant.num_actuators()
        self.position_names, self.velocity_names = _coordinate_names(plant)
        self.quaternion_starts = tuple(
            plant.get_body(i).floating_positions_start()
            for i in plant.GetFloatingBaseBodies()
            if plant.get_body(i).has_quaternion_dofs()
        )
        actuators = [plant.get_joint_actuator(JointActuatorIndex(i)) for i in range(plant.num_actuators())]
        self.actuator_names = [a.name() for a in actuators]
        self.u_limit = np.array([a.effort_limit() for a in actuators], dtype=np.float64)
        self._B = np.asarray(plant.MakeActuationMatrix(), dtype=np.float64).reshape(self.nv, self.nu)
        self._armature = np.zeros(self.nv)
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
    def from_file(cls, path: str | Path, name: str | None = None, base: str = "auto") -> DrakePlant:
        path = Path(path)
        plant, messages = _build(lambda parser: parser.AddModels(str(path)), str(path), base)
        out = cls(plant, name or path.stem)
        out.parser_messages = messages
        out._source = ("from_file", (str(path.absolute()), name or path.stem, base))
        return out

    @classmethod
    def from_string(cls, text: str, file_type: str, name: str, base: str = "auto", prepare=None) -> DrakePlant:
        plant, messages = _build(lambda parser: parser.AddModelsFromString(text, file_type), name, base, prepare)
        out = cls(plant, name)
        out.parser_messages = messages
        out._source = ("from_string", (text, file_type, name, base, prepare))
        return out

    def __reduce__(self):
        if self._source is None:
            raise UnderactError(
                f"{self.name} (drake): a plant made from a MultibodyPlant directly cannot be copied or pickled; "
                "make it with DrakePlant.from_file / from_string (as underact.load does)"
            )
        state = {k: v for k, v in self.__dict__.items() if k not in ("plant", "context", "_ad")}
        return _rebuild, (type(self), *self._source, state)

    @classmethod
    def builtin(cls, name: str) -> DrakePlant:
        """Built-in system `name` with its default parameters (`underact.systems`)."""
        from underact.systems import get

        system = get(name)
        return system.drake_plant(system.params(), False)

    def add_armature(self, armature: dict[str, float]) -> list[str]:
        """MJCF `armature` of joints without an actuator (Drake's parser keeps it only as an actuator's rotor
        inertia): added to M's diagonal, as MuJoCo does. Returns the joints it was added to."""
        actuated = {self.plant.get_joint_actuator(JointActuatorIndex(i)).joint().name() for i in range(self.nu)}
        added = []
        for i in range(self.plant.num_joints()):
            joint = self.plant.get_joint(JointIndex(i))
            value = armature.get(joint.name(), 0.0)
            if value and joint.num_velocities() == 1 and joint.name() not in actuated:
                self._armature[joint.velocity_start()] += value
                added.append(joint.name())
        return added

    def replace_actuation(self, B: np.ndarray, names: list[str], u_limit: np.ndarray) -> None:
        """B (nv, nu) from the description's actuators where Drake cannot represent them (coupled joints,
        MJCF gains and tendons); Drake's own actuation input port keeps the actuators it made."""
        self._B = np.asarray(B, dtype=np.float64).reshape(self.nv, len(names))
        self.nu, self.actuator_names, self.u_limit = len(names), list(names), np.asarray(u_limit, dtype=np.float64)

    def scale_actuators(self, gear: np.ndarray) -> None:
        """Each actuator drives its joint with gear · u (MJCF `gear`, which Drake's parser drops)."""
        self._B = self._B * gear

    def _set(self, q, v):
        self.plant.SetPositions(self.context, q)
        self.plant.SetVelocities(self.context, v)

    def _terms(self, q, v):
        n = len(q)
        M = np.empty((n, self.nv, self.nv))
        Cv = np.empty((n, self.nv))
        tau_g = np.empty((n, self.nv))
        plant, context, x = self.plant, self.context, np.concatenate([q, v], axis=1)
        set_state, mass, bias, gravity = (plant.SetPositionsAndVelocities, plant.CalcMassMatrix, plant.CalcBiasTerm,
                                          plant.CalcGravityGeneralizedForces)  # looked up once, not per state
        for i in range(n):
            try:
                set_state(context, x[i])
                M[i] = mass(context)
                Cv[i] = bias(context)
                tau_g[i] = gravity(context)
            except (Exception, SystemExit) as exc:  # pydrake's failed checks raise SystemExit
                raise UnderactError(f"{self.name} (drake): cannot evaluate the terms at q = {q[i].tolist()}, "
                                    f"v = {v[i].tolist()}: {one_line(exc)}") from None
        if self._armature.any():
            M += np.diag(self._armature)
        return ManipulatorTerms(M, Cv, tau_g, np.broadcast_to(self._B, (n, self.nv, self.nu)).copy())

    def _coriolis(self, q, v):
        """C = ½ ∂(Cv)/∂v by Drake's AutoDiff of `CalcBiasTerm` (exact), plus the free-body term
        (`underact.terms.coriolis_from_bias_derivative`)."""
        from underact.terms import coriolis_from_bias_derivative

        plant, context, free = self._autodiff()
        n = len(q)
        dCv = np.empty((n, self.nv, self.nv))
        for i in range(n):
            try:
                plant.SetPositions(context, q[i])
                plant.SetVelocities(context, InitializeAutoDiff(v[i]).ravel())
                dCv[i] = ExtractGradient(plant.CalcBiasTerm(context))
            except (Exception, SystemExit) as exc:
                raise UnderactError(f"{self.name} (drake): cannot evaluate C at q = {q[i].tolist()}: "
                                    f"{one_line(exc)}") from None
        M = self._terms(q, v).M if free else None
        return coriolis_from_bias_derivative(dCv, M, v, free)

    def _autodiff(self):
        """The AutoDiff plant, its context and the free bodies' velocity starts (made once), or a one-line
        refusal for joints whose velocities are neither q̇ nor a free body's (ω, v) in the world."""
        if getattr(self, "_ad", None) is None:
            free = []
            for i in range(self.plant.num_joints()):
                joint = self.plant.get_joint(JointIndex(i))
                kind = joint.type_name()
                if kind == "quaternion_floating" and joint.parent_body().index() == self.plant.world_body().index():
                    free.append(joint.velocity_start())
                elif kind not in ("revolute", "prismatic", "screw", "universal", "planar", "weld"):
                    raise UnderactError(f"{self.name} (drake): C is given for joint coordinates and free bodies; "
                                        f"joint '{joint.name()}' ({kind}) is neither")
            ad = self.plant.ToAutoDiffXd()
            self._ad = (ad, ad.CreateDefaultContext(), tuple(free))
        return self._ad

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

    def position_limits(self):
        lo = np.asarray(self.plant.GetPositionLowerLimits(), dtype=np.float64).copy()
        hi = np.asarray(self.plant.GetPositionUpperLimits(), dtype=np.float64).copy()
        for s in self.quaternion_starts:  # Drake bounds a quaternion's entries by ±1 and leaves position free
            lo[s : s + 7], hi[s : s + 7] = -np.inf, np.inf
        return lo, hi


def _rebuild(cls: type[DrakePlant], method: str, args: tuple, state: dict) -> DrakePlant:
    """A copied or unpickled `DrakePlant`: its MultibodyPlant parsed again by `method`, then its attributes."""
    plant = getattr(cls, method)(*args)
    plant.__dict__.update(state)
    return plant
