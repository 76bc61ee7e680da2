"""Drake backend: a continuous-time `MultibodyPlant` parsed from URDF, SDF or MJCF.

Cv = `CalcBiasTerm`, τg = `CalcGravityGeneralizedForces`, B = `MakeActuationMatrix`; joint damping is read from
the joints (`default_damping_vector`) and returned by `damping(v)`, never folded into Cv. pydrake is imported
here only, and lazily by `underact.load`.

This module also owns how Drake reads a model, for the plants and for `underact view` alike: `load_models` parses
into a given `MultibodyPlant` (the base mode applied, finalized, every failure one line) and returns what Drake's
parser said (its Python logger `drake`, collected by `drake_messages`); `drake_urdf` is the URDF Drake is given.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from pydrake.multibody.parsing import Parser
from pydrake.multibody.plant import MultibodyPlant
from pydrake.multibody.tree import BodyIndex, JointActuatorIndex, JointIndex

from underact.errors import UnderactError, one_line
from underact.plants.base import Plant
from underact.terms import ManipulatorTerms


def drake_examples_dir() -> Path:
    """The example models that ship inside the drake wheel (no download needed)."""
    import pydrake

    return Path(pydrake.__file__).parent / "share" / "drake" / "examples"


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


@contextmanager
def drake_messages(messages: list[str]) -> Iterator[None]:
    """What Drake logs at WARNING and above while the block runs (Python logging, logger `drake`), appended to
    `messages` one line each instead of reaching stderr."""

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(" ".join(record.getMessage().split()))

    logger = logging.getLogger("drake")
    handler, propagate = Collect(logging.WARNING), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


@contextmanager
def drake_log_level(level: int) -> Iterator[None]:
    """Drake's log messages below `level` dropped while the block runs (Meshcat's INFO notes, say)."""
    logger = logging.getLogger("drake")
    previous = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)


def load_models(plant: MultibodyPlant, add_models, label: str, base: str = "auto", prepare=None) -> list[str]:
    """Parses into `plant` (`add_models(parser)`), applies the base mode, calls `prepare(plant)` (e.g. to add
    actuators), finalizes; returns what Drake's parser said (`drake_messages`). Every Drake failure is one line
    naming `label`.

    pydrake raises `SystemExit` for failed internal checks; it is caught here so it cannot end a caller."""
    messages: list[str] = []
    try:
        with drake_messages(messages):
            add_models(Parser(plant))
            if base == "fixed":
                for body in _free_bodies(plant):
                    plant.WeldFrames(plant.world_frame(), body.body_frame())
            if prepare is not None:
                prepare(plant)
            plant.Finalize()
    except (Exception, SystemExit) as exc:  # Drake raises RuntimeError/ValueError/SystemExit, multi-line
        raise UnderactError(f"{label}: Drake could not load the model: {one_line(exc)}") from None
    return messages


def drake_urdf(root: ET.Element, label: str, base: str, strict: bool) -> tuple[ET.Element, list[str]]:
    """The URDF Drake is given, from `engine_urdf`'s tree `root`: the base mode ("floating" frees a root bolted to
    the world), a massless link that moves given a tiny mass, an invalid inertia repaired (`strict` refuses it),
    transmissions removed (the actuation model makes the actuators); returns it and a warning for each change."""
    from underact.plants.files import (
        MIN_MASS,
        massless_with_inertia,
        repair_inertias,
        strip_transmissions,
        urdf_with_base,
    )

    if base == "floating":
        root = urdf_with_base(ET.tostring(root, encoding="unicode"), label, base)[0]
    warnings = massless_with_inertia(root, MIN_MASS)
    warnings += repair_inertias(root, label, strict)
    strip_transmissions(root)
    return root, warnings


def _build(add_models, label: str, base: str = "auto", prepare=None) -> tuple[MultibodyPlant, list[str]]:
    """A new continuous-time plant from `load_models`, and what Drake's parser said; a massless floating base is
    refused."""
    plant = MultibodyPlant(time_step=0.0)
    messages = load_models(plant, add_models, label, base, prepare)
    _refuse_massless_bases(plant, label)
    return plant, messages


def _free_bodies(plant: MultibodyPlant) -> list:
    """Bodies no joint moves (before Finalize): each would become a floating base."""
    children = {plant.get_joint(JointIndex(i)).child_body().index() for i in range(plant.num_joints())}
    bodies = [plant.get_body(BodyIndex(i)) for i in range(1, plant.num_bodies())]
    return [b for b in bodies if b.index() not in children]


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
        from pydrake.autodiffutils import ExtractGradient, InitializeAutoDiff

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
