"""URDF → MuJoCo with the actuators MuJoCo's importer drops.

MuJoCo's URDF importer ignores `<transmission>` and `ros2_control`, refuses files whose meshes it cannot open,
and fuses fixed links. We read the file ourselves (untrusted XML, `underact.description`), hand MuJoCo a copy
without unloadable meshes and with static bodies kept, add one motor per joint the file actuates with `MjSpec`, and add
a free joint at the root when the description's base is floating (no joint to a link named `world`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import mujoco
import numpy as np

from underact.description import parse_description
from underact.description.sanitize import engine_urdf, removed_geometry
from underact.errors import UnderactError
from underact.plants.mujoco import MujocoPlant, _one_line


def urdf_spec(path: str | Path) -> tuple[mujoco.MjSpec, list[str]]:
    """An `MjSpec` with actuators and base as `parse_description` reads the file, plus warnings."""
    desc = parse_description(path)
    root = ET.fromstring(engine_urdf(desc))
    ext = root.find("mujoco")
    if ext is None:
        ext = ET.SubElement(root, "mujoco")
    compiler = ext.find("compiler")
    if compiler is None:
        compiler = ET.SubElement(ext, "compiler")
    compiler.set("fusestatic", "false")
    compiler.set("discardvisual", "true")
    try:
        spec = mujoco.MjSpec.from_string(ET.tostring(root, encoding="unicode"))
    except ValueError as exc:
        raise UnderactError(f"{path}: MuJoCo could not read the URDF: {_one_line(exc)}") from None
    warnings = [f"ignored mesh {m!r} (not loadable)" for m in removed_geometry(desc)]
    if desc.base == "floating":
        root_body = spec.worldbody.first_body()
        if root_body is not None:
            root_body.add_freejoint(name="floating_base")
    efforts = {j.name: j.effort for j in desc.joints}
    # Like Drake, an engine plant has actuators only where the file declares them (classification may assume).
    declared = desc.actuated_joints if desc.actuation_source != "assumed" else []
    for name in declared:
        effort = efforts.get(name)
        limited = effort is not None and np.isfinite(effort) and effort > 0
        spec.add_actuator(
            name=name,
            target=name,
            trntype=mujoco.mjtTrn.mjTRN_JOINT,
            gear=[1, 0, 0, 0, 0, 0],
            ctrllimited=1 if limited else 0,
            ctrlrange=[-effort, effort] if limited else [0, 0],
        )
    return spec, warnings


def load_urdf(path: str | Path) -> MujocoPlant:
    spec, warnings = urdf_spec(path)
    plant = MujocoPlant.from_spec(spec, Path(path).stem)
    plant.warnings = warnings
    return plant
