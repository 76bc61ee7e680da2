"""Plants: one protocol (`Plant.terms(q, v)`), three sources (closed form, Drake, MuJoCo).

`load(model, backend)` is the one way in. Built-in names (`acrobot`, `cartpole`, `pendulum`) exist on all three
backends with identical physics; files (.urdf, .sdf, .xml/.mjcf) load on Drake or MuJoCo. Engines are imported
only when a plant of theirs is asked for.
"""

from __future__ import annotations

from pathlib import Path

from underact.errors import UnderactError
from underact.plants.base import Plant

BUILTINS = ("acrobot", "cartpole", "pendulum")
BACKENDS = ("analytic", "drake", "mujoco", "pinocchio")
FILE_SUFFIXES = {".urdf": "urdf", ".sdf": "sdf", ".xml": "mjcf", ".mjcf": "mjcf"}


def load(model: str | Path, backend: str = "drake", base: str = "auto", **params: float) -> Plant:
    """A plant for a built-in name or a description file.

    `base`: "auto" (as the file says: a URDF without a joint to `world` floats, as in Drake), "fixed" (a floating
    root is welded to the world) or "floating" (a root bolted to `world` by a fixed joint is freed). Floating bases
    use one convention on every backend (`underact.plants.base`). `params` override the built-in systems' physical
    parameters (see `underact.plants.analytic`) on the analytic and MuJoCo backends, e.g.
    `load("cartpole", "mujoco", l=1.0)`.
    """
    from underact.plants.files import check_base

    if backend not in BACKENDS:
        raise UnderactError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    check_base(base)
    name = str(model)
    if name in BUILTINS:
        if base != "auto":
            raise UnderactError(f"{name} is bolted to the world; --base applies to description files")
        return _load_builtin(name, backend, params)
    path = Path(name)
    if not path.exists():
        raise UnderactError(f"{name!r} is neither a built-in model ({', '.join(BUILTINS)}) nor an existing file")
    if path.is_dir():
        raise UnderactError(f"{path}: is a directory; give a .urdf, .sdf or MJCF .xml file")
    kind = FILE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise UnderactError(f"{path}: unknown file type {path.suffix!r}; expected .urdf, .sdf, .xml or .mjcf")
    if params:
        raise UnderactError("parameter overrides apply to the built-in models only")
    if backend == "analytic":
        raise UnderactError(f"{path}: the analytic backend has built-in models only; use drake or mujoco")
    return _load_file(path, kind, backend, base)


def _load_builtin(name: str, backend: str, params: dict) -> Plant:
    from underact.plants.analytic import PARAMS, PLANTS, make_params

    try:
        p = make_params(PARAMS[name], params)
    except ValueError as exc:
        raise UnderactError(str(exc)) from None
    if backend == "analytic":
        return PLANTS[name](p)
    if backend == "pinocchio":  # built from the same parameters as the closed form
        from underact.plants.pinocchio import PinocchioPlant

        plant = PinocchioPlant.builtin(name, p)
        plant.upright = PLANTS[name](p).upright.copy()
        return plant
    if backend == "mujoco":
        from underact.plants.builtin_mjcf import SPECS
        from underact.plants.mujoco import MujocoPlant

        plant = MujocoPlant.from_spec(SPECS[name](p), name)
        reference = PLANTS[name](p)
        plant.upright, plant.u_limit = reference.upright.copy(), reference.u_limit.copy()
        return plant
    if params:
        raise UnderactError(
            "Drake's built-ins are the shipped example files; override parameters on analytic or mujoco"
        )
    from underact.plants.drake import DrakePlant

    return DrakePlant.builtin(name)


def _load_file(path: Path, kind: str, backend: str, base: str) -> Plant:
    """Every file is vetted as untrusted XML (size cap, no entities or DTDs, referenced files regular and bounded)
    before an engine reads it; see `underact.plants.files` for what each engine is given."""
    import xml.etree.ElementTree as ET

    from underact.plants.files import (
        MIN_MASS,
        massless_with_inertia,
        mjcf_gears,
        mjcf_joint_armature,
        read_vetted,
        urdf_with_base,
    )

    text = read_vetted(path)
    if backend == "drake":
        from underact.plants.drake import DrakePlant

        if kind == "urdf":  # unloadable meshes dropped, unnamed joints named: Drake would refuse the whole file
            from underact.description.sanitize import engine_urdf

            root = ET.fromstring(engine_urdf(path))
            if base == "floating":
                root = urdf_with_base(ET.tostring(root, encoding="unicode"), path.name, base)[0]
            warnings = massless_with_inertia(root, MIN_MASS)
            plant = DrakePlant.from_string(
                ET.tostring(root, encoding="unicode"), "urdf", path.stem, base="fixed" if base == "fixed" else "auto"
            )
            plant.warnings.extend(warnings)
            return plant
        if base == "floating":
            raise UnderactError(f"{path}: --base floating is supported for URDF files on Drake; use auto or fixed")
        plant = DrakePlant.from_file(path, base=base)
        if kind == "mjcf":
            root = ET.fromstring(text)
            _apply_gears(plant, mjcf_gears(root))
            plant.add_armature(mjcf_joint_armature(root))
            if any(c.get("settotalmass") for c in root.iter("compiler")):
                plant.warnings.append("<compiler settotalmass> is ignored by Drake: masses are as written (MuJoCo "
                                      "scales them); use --backend mujoco")
        return plant
    if backend == "pinocchio":
        if kind != "urdf":
            raise UnderactError(f"{path}: the pinocchio backend reads URDF files; use --backend drake")
        from underact.plants.pinocchio import PinocchioPlant

        return PinocchioPlant.from_urdf(path, base)
    from underact.plants.mujoco import MujocoPlant

    if kind == "sdf":
        raise UnderactError(f"{path}: MuJoCo does not read SDF; use --backend drake")
    if kind == "urdf":
        from underact.plants.mujoco_urdf import load_urdf

        return load_urdf(path, base)
    return MujocoPlant.from_file(path, base=base)


def _apply_gears(plant, gears: list[tuple[str | None, float]]) -> None:
    """MJCF `gear` on Drake (its parser drops it): B's columns and the effort limits scaled as MuJoCo does."""
    import numpy as np

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
