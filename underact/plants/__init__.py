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
BACKENDS = ("analytic", "drake", "mujoco")
FILE_SUFFIXES = {".urdf": "urdf", ".sdf": "sdf", ".xml": "mjcf", ".mjcf": "mjcf"}


def load(model: str | Path, backend: str = "drake", **params: float) -> Plant:
    """A plant for a built-in name or a description file.

    `params` override the built-in systems' physical parameters (see `underact.plants.analytic`) on the
    analytic and MuJoCo backends, e.g. `load("cartpole", "mujoco", l=1.0)`.
    """
    if backend not in BACKENDS:
        raise UnderactError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    name = str(model)
    if name in BUILTINS:
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
    return _load_file(path, kind, backend)


def _load_builtin(name: str, backend: str, params: dict) -> Plant:
    from underact.plants.analytic import PARAMS, PLANTS, make_params

    try:
        p = make_params(PARAMS[name], params)
    except ValueError as exc:
        raise UnderactError(str(exc)) from None
    if backend == "analytic":
        return PLANTS[name](p)
    if backend == "mujoco":
        from underact.plants.builtin_mjcf import MJCF
        from underact.plants.mujoco import MujocoPlant

        plant = MujocoPlant.from_xml_string(MJCF[name](p), name)
        reference = PLANTS[name](p)
        plant.upright, plant.u_limit = reference.upright.copy(), reference.u_limit.copy()
        return plant
    if params:
        raise UnderactError(
            "Drake's built-ins are the shipped example files; override parameters on analytic or mujoco"
        )
    from underact.plants.drake import DrakePlant

    return DrakePlant.builtin(name)


def _load_file(path: Path, kind: str, backend: str) -> Plant:
    # Untrusted XML (size cap, no entities or DTDs) is checked before any engine reads the file: URDF through
    # `underact.description`, which both URDF routes read it with, SDF and MJCF here.
    if kind != "urdf":
        from underact.description import safe_parse

        safe_parse(path)
    if backend == "drake":
        from underact.plants.drake import DrakePlant

        if kind == "urdf":  # unloadable meshes dropped, unnamed joints named: Drake would refuse the whole file
            from underact.description.sanitize import engine_urdf

            return DrakePlant.from_string(engine_urdf(path), "urdf", path.stem)
        return DrakePlant.from_file(path)
    from underact.plants.mujoco import MujocoPlant

    if kind == "sdf":
        raise UnderactError(f"{path}: MuJoCo does not read SDF; use --backend drake")
    if kind == "urdf":
        from underact.plants.mujoco_urdf import load_urdf

        return load_urdf(path)
    return MujocoPlant.from_file(path)


__all__ = ["BACKENDS", "BUILTINS", "Plant", "load"]
