"""Plants: one protocol (`Plant.terms(q, v)`), three sources (closed form, Drake, MuJoCo).

`load(model, backend)` is the one way in. Built-in names (`underact.systems.names()`) exist on every backend
with identical physics; files (.urdf, .sdf, .xml/.mjcf) load on Drake or MuJoCo. Engines are imported
only when a plant of theirs is asked for.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from functools import partial
from pathlib import Path

import numpy as np

from underact.errors import UnderactError
from underact.plants.base import Plant
from underact.systems import get, names

#: The built-in systems (`underact.systems`; `underact.systems.register` adds more).
BUILTINS = names()
BACKENDS = ("analytic", "drake", "mujoco", "pinocchio")
FILE_SUFFIXES = {".urdf": "urdf", ".sdf": "sdf", ".xml": "mjcf", ".mjcf": "mjcf"}


def load(
    model: str | Path,
    backend: str = "drake",
    base: str = "auto",
    actuation: str = "auto",
    strict: bool = False,
    **params: float,
) -> Plant:
    """A plant for a built-in name or a description file.

    `base`: "auto" (as the file says: a URDF without a joint to `world` floats, as in Drake), "fixed" (a floating
    root is welded to the world) or "floating" (a root bolted to `world` by a fixed joint is freed). Floating bases
    use one convention on every backend (`underact.plants.base`). `actuation`: a file's actuators by the one
    actuation model (`underact.description.actuation`: "auto", "declared" or "assumed"), the same on both engines.
    `strict` refuses an invalid inertia instead of repairing it (the same way for both engines). `params` override
    a built-in system's physical parameters (its params class in `underact.systems`) on the analytic, MuJoCo and
    Pinocchio backends, and on Drake where its record builds Drake's model from them (a cart-pole's pole length:
    `l=1.0`).

    What loading changed or assumed is in `plant.warnings` (one line each); the engine's own parser messages are
    in `plant.parser_messages`.
    """
    from underact.description.actuation import check_mode
    from underact.plants.files import check_base

    if backend not in BACKENDS:
        raise UnderactError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    check_base(base)
    try:
        actuation = check_mode(actuation)
    except ValueError:
        raise UnderactError(f"actuation must be one of auto, declared, assumed; got {actuation!r}") from None
    name = str(model)
    if name in names():
        if base != "auto":
            raise UnderactError(f"{name} is bolted to the world; --base applies to description files")
        if actuation != "auto":
            raise UnderactError(f"{name} has its own actuators; --actuation applies to description files")
        return _load_builtin(name, backend, params)
    path = Path(name)
    if not path.exists():
        raise UnderactError(f"{name!r} is neither a built-in model ({', '.join(names())}) nor an existing file")
    if path.is_dir():
        raise UnderactError(f"{path}: is a directory; give a .urdf, .sdf or MJCF .xml file")
    kind = FILE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise UnderactError(f"{path}: unknown file type {path.suffix!r}; expected .urdf, .sdf, .xml or .mjcf")
    if params:
        raise UnderactError("parameter overrides apply to the built-in models only")
    if backend == "analytic":
        raise UnderactError(f"{path}: the analytic backend has built-in models only; use drake or mujoco")
    messages: list[str] = []
    with _engine_messages(backend, messages):
        plant = _load_file(path, kind, backend, base, actuation, strict)
    plant.parser_messages = [*getattr(plant, "parser_messages", ()), *messages]  # Drake's: `load_models`
    return plant


def _engine_messages(backend: str, messages: list[str]) -> AbstractContextManager:
    """MuJoCo's warnings while loading, collected into `messages` (`underact.engines.mujoco.messages`) instead of
    reaching stderr. Drake's parser messages are collected where Drake reads a model
    (`underact.engines.drake.load_models`)."""
    if backend != "mujoco":
        return nullcontext()
    from underact.engines.mujoco import messages as collect

    return collect(messages)


def _load_builtin(name: str, backend: str, params: dict) -> Plant:
    """Built-in `name` on `backend`, every engine's model built from the system's record (`underact.systems`) and
    given the closed form's upright pose and effort limit."""
    from underact.systems.base import make_params

    system = get(name)
    try:
        p = make_params(system.params, params)
    except ValueError as exc:
        raise UnderactError(str(exc)) from None
    reference = system.plant(p)
    if backend == "analytic":
        return reference
    if backend == "pinocchio":
        if system.pinocchio_plant is None:
            raise UnderactError(f"{name} has no Pinocchio model; use analytic, drake or mujoco")
        plant = system.pinocchio_plant(p)
    elif backend == "mujoco":
        from underact.plants.mujoco import MujocoPlant

        plant = MujocoPlant.from_spec(system.mujoco_spec(p), name)
        plant.u_limit = reference.u_limit.copy()
    elif params and not system.drake_takes_params:
        raise UnderactError(
            "Drake's built-ins are the shipped example files; override parameters on analytic or mujoco"
        )
    else:
        plant = system.drake_plant(p, bool(params))
    plant.upright = reference.upright.copy()
    return plant


def _load_file(path: Path, kind: str, backend: str, base: str, actuation: str, strict: bool) -> Plant:
    """Every file is vetted as untrusted XML (size cap, no entities or DTDs, referenced files regular and bounded)
    before an engine reads it; see `underact.plants.files` for what each engine is given. Both engines get the
    actuation model's actuators (`underact.description.actuation`)."""
    from underact.description import parse_description
    from underact.plants.files import actuation_lines, read_vetted

    text = read_vetted(path)
    desc = parse_description(path, base="fixed" if base == "fixed" else "auto", actuation=actuation)
    if backend == "pinocchio":
        if kind != "urdf":
            raise UnderactError(f"{path}: the pinocchio backend reads URDF files; use --backend drake")
        from underact.plants.pinocchio import PinocchioPlant

        plant = PinocchioPlant.from_urdf(path, base, desc.actuators, strict)
    elif backend == "drake":
        plant = _drake_file(path, text, kind, base, desc, strict)
    elif kind == "sdf":
        raise UnderactError(f"{path}: MuJoCo does not read SDF; use --backend drake")
    elif kind == "urdf":
        from underact.plants.mujoco_urdf import load_urdf

        plant = load_urdf(path, base, actuation, strict)
    else:
        from underact.plants.mujoco import MujocoPlant

        assumed = desc.actuators if desc.actuation_source == "assumed" else None
        plant = MujocoPlant.from_file(path, base=base, actuators=assumed)
    plant.warnings = [*actuation_lines(desc), *plant.warnings]
    return plant


def _drake_file(path: Path, text: str, kind: str, base: str, desc, strict: bool) -> Plant:
    """Drake's plant of a file, with the actuation model's actuators: a URDF's one-joint actuators made as
    Drake's own `JointActuator`s (its parser's are dropped), the others (coupled joints, reductions, MJCF gains
    and tendons) as columns of B from the description, said in one warning."""
    import xml.etree.ElementTree as ET

    from underact.engines.drake import drake_urdf
    from underact.plants.drake import DrakePlant
    from underact.plants.files import mjcf_gears, mjcf_joint_armature

    if kind == "urdf":  # unloadable meshes dropped, unnamed joints named: Drake would refuse the whole file
        from underact.description.sanitize import engine_urdf

        root, warnings = drake_urdf(ET.fromstring(engine_urdf(path)), path.name, base, strict)
        dof = {j.name: j.dof for j in desc.joints}
        native = [a for a in desc.actuators if a.simple and dof.get(a.joints[0]) == 1]  # Drake: one-DoF joints only
        plant = DrakePlant.from_string(
            ET.tostring(root, encoding="unicode"), "urdf", path.stem, base="fixed" if base == "fixed" else "auto",
            prepare=partial(_add_joint_actuators, actuators=native),  # picklable: copies rebuild from it
        )
        plant.warnings.extend(warnings)
        if len(native) < len(desc.actuators):
            _description_actuation(plant, desc.actuators, "coupled joints, reductions or multi-DoF joints", dof)
        return plant
    if base == "floating":
        raise UnderactError(f"{path}: --base floating is supported for URDF files on Drake; use auto or fixed")
    plant = DrakePlant.from_file(path, base=base)
    if kind == "mjcf":
        root = ET.fromstring(text)
        plant.add_armature(mjcf_joint_armature(root))
        if desc.actuation_source == "assumed" or not any(w.startswith("MuJoCo refused") for w in desc.warnings):
            _mjcf_actuation(plant, desc.actuators, desc.joints)
        else:
            _apply_gears(plant, mjcf_gears(root))
        if any(c.get("settotalmass") for c in root.iter("compiler")):
            plant.warnings.append("<compiler settotalmass> is ignored by Drake: masses are as written (MuJoCo "
                                  "scales them); use --backend mujoco")
    return plant


def _add_joint_actuators(mbp, actuators: list) -> None:
    """Drake `JointActuator`s for the model's one-joint actuators, in its order, before Finalize."""
    import math

    used: set[str] = set()
    for actuator in actuators:
        name = actuator.name
        while name in used:  # Drake needs unique actuator names
            name += "_"
        used.add(name)
        effort = actuator.effort if actuator.effort is not None and actuator.effort > 0 else math.inf
        mbp.AddJointActuator(name, mbp.GetJointByName(actuator.joints[0]), effort)


def _description_actuation(plant, actuators: list, what: str, dofs: dict[str, int]) -> None:
    """B from the actuation model where Drake's own actuators cannot say it (coupled joints); one warning."""
    from underact.plants.files import actuator_columns, effort_limits

    B, unmapped = actuator_columns(actuators, plant.velocity_names, dofs)
    plant.replace_actuation(B, [a.name for a in actuators], effort_limits(actuators))
    special = [a.name for a in actuators if not (a.simple and dofs.get(a.joints[0]) == 1)]
    plant.warnings.append(f"Drake cannot represent {len(special)} actuator(s) ({what}: {_shown(special)}); their "
                          "columns of B come from the description (Drake's own simulator does not drive them)")
    _say_unmapped(plant, unmapped)


def _mjcf_actuation(plant, actuators: list, dofs: list) -> None:
    """An MJCF file's B on Drake from the actuation model (MuJoCo's moment arms and gains; Drake's parser drops
    gear, gain and non-joint transmissions); one warning saying what that changed."""
    from underact.plants.files import actuator_columns, effort_limits

    native, before = plant.nu, plant._B.copy()
    B, unmapped = actuator_columns(actuators, plant.velocity_names, {j.name: j.dof for j in dofs})
    plant.replace_actuation(B, [a.name for a in actuators], effort_limits(actuators))
    if native != len(actuators):
        plant.warnings.append(f"Drake's parser made {native} of the {len(actuators)} actuators (joint transmissions "
                              "only); B comes from the description for all of them (Drake's own simulator drives only "
                              f"its {native})")
    elif not np.array_equal(before, B):
        scaled = [f"'{a.name}' ×{a.gain * a.reductions[0]:g}" for a in actuators
                  if len(a.joints) == 1 and a.gain != 0.0 and a.gain * a.reductions[0] != 1.0]
        if scaled:
            plant.warnings.append(f"MJCF gear and gain applied to Drake's B (its parser drops them): "
                                  f"{', '.join(scaled[:3])}{', ...' if len(scaled) > 3 else ''}")
    _say_unmapped(plant, unmapped)


def _say_unmapped(plant, unmapped: list[str]) -> None:
    if unmapped:
        plant.warnings.append(f"{len(unmapped)} actuator(s) act on a floating base or multi-DoF joint coordinate "
                              f"Drake cannot name ({_shown(unmapped)}); their columns of B are zero")


def _shown(names: list[str]) -> str:
    return ", ".join(f"'{n}'" for n in names[:3]) + (", ..." if len(names) > 3 else "")


def _apply_gears(plant, gears: list[tuple[str | None, float]]) -> None:
    """MJCF `gear` on Drake (its parser drops it), read from the XML when MuJoCo refused the file: B's columns
    and the effort limits scaled as MuJoCo does."""
    from underact.plants.files import gears_by_actuator

    if all(g == 1.0 for _, g in gears):
        return
    by_name = gears_by_actuator(gears, plant.actuator_names)
    if by_name is None:
        plant.warnings.append(
            f"Drake made {plant.nu} actuators of the file's {len(gears)} joint actuators; gear not applied"
        )
        return
    plant.scale_actuators(np.array([by_name[a] for a in plant.actuator_names]))


__all__ = ["BACKENDS", "BUILTINS", "Plant", "load"]
