"""Reading an SDFormat model's kinematic tree and actuators into a `Description`, as Drake reads it.

Drake's rules: every revolute, continuous, prismatic or screw joint gets an actuator unless its
`<axis><limit><effort>` is 0; multi-DoF joints (ball, universal, revolute2) are not actuated. A link with no
parent joint floats (6 DoF) unless the model is `<static>`; a joint whose parent is `world` attaches the
model to the world. Nested models are read with `::`-scoped names; `<include>` is not followed.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

from underact.description import uris
from underact.description.actuation import Actuator
from underact.description.model import Description, Joint, assemble
from underact.description.xml import DescriptionError, where

JOINT_DOF = {
    "revolute": 1,
    "continuous": 1,
    "prismatic": 1,
    "screw": 1,
    "fixed": 0,
    "ball": 3,
    "universal": 2,
    "revolute2": 2,
    "planar": 3,
    "gearbox": 0,
}
ACTUATABLE = {"revolute", "continuous", "prismatic", "screw"}


def _text(element: ET.Element, tag: str) -> str:
    child = element.find(tag)
    return (child.text or "").strip() if child is not None else ""


def _effort(joint: ET.Element) -> float | None:
    text = _text(joint, "axis/limit/effort")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return math.nan


def read_sdf(root: ET.Element, path: Path, base_mode: str, actuation_mode: str) -> Description:
    """Reads a parsed `<sdf>` element holding one or more models (directly or in a `<world>`)."""
    label = path.name
    warnings: list[str] = []
    models = root.findall("model") + root.findall("world/model")
    if not models:
        raise DescriptionError(f"{label}: <sdf> holds no <model>; nothing to classify")
    declared: dict[str, None] = {}
    joints: list[Joint] = []
    static: set[str] = set()
    for model in models:
        _read_model(model, "", label, declared, joints, static, warnings)
    links = list(declared)
    if not links:
        raise DescriptionError(f"{label}: has no <link> elements; nothing to classify")
    includes = len(root.findall(".//include"))
    if includes:
        warnings.append(f"{includes} <include> element(s) not followed; their links and joints are not counted")
    unresolved = [
        uri.text.strip()
        for uri in root.iter("uri")
        if uri.text and uri.text.strip() and uris.resolve(uri.text, path.parent) is None
    ]
    if unresolved:
        warnings.append(
            f"{len(unresolved)} mesh file(s) not found (e.g. '{unresolved[0]}'); geometry ignored, "
            "classification needs none"
        )

    parent_of: dict[str, str] = {}
    for joint in joints:
        if joint.child in parent_of:
            raise DescriptionError(
                f"{label}: link '{joint.child}' is the child of two joints ('{parent_of[joint.child]}' and "
                f"'{joint.name}'); kinematic loops are not supported"
            )
        parent_of[joint.child] = joint.name
    roots = [link for link in links if link not in parent_of and link not in static]
    _check_acyclic(links, joints, roots + ["world"] + sorted(static), label)
    free = [Joint(name=f"{link}::floating", type="floating", parent="world", child=link, dof=6) for link in roots[1:]]
    if free:
        warnings.append(f"{len(free)} more free-floating link(s) besides the base add 6 unactuated DoF each")
    joints = joints + free
    floating = bool(roots)
    root_link = roots[0] if roots else "world"
    independent = [j.name for j in joints if j.dof > 0]

    declared = [
        Actuator(joint.name, (joint.name,), (1.0,), source="sdf",
                 effort=joint.effort if joint.effort is not None and math.isfinite(joint.effort) else None)
        for joint in joints
        if joint.type in ACTUATABLE and joint.effort != 0
    ]
    multi = [j.name for j in joints if j.dof > 1 and j.type != "floating"]
    if multi:
        warnings.append(f"{len(multi)} multi-DoF joint(s) (e.g. '{multi[0]}') cannot carry Drake actuators; passive")
    return assemble(
        path=path,
        name=models[0].get("name") or path.stem,
        format="sdf",
        joints=joints,
        independent=independent,
        links=links,
        root=root_link,
        floating=floating,
        source="sdf",
        declared=declared,
        declares=True,
        warnings=warnings,
        base_mode=base_mode,
        actuation_mode=actuation_mode,
        unresolved_meshes=unresolved,
    )


def _read_model(
    model: ET.Element,
    prefix: str,  # scope of this model's names: "" at the top, "outer::" in a nested model
    label: str,
    links: dict[str, None],  # ordered, with constant-time membership
    joints: list[Joint],
    static: set[str],
    warnings: list[str],
) -> None:
    scope = model.get("name") or ""
    if not scope:
        warnings.append(f"a <model>{where(model)} has no name")
    scoped = prefix
    own = [link.get("name") for link in model.findall("link")]
    if any(not name for name in own):
        raise DescriptionError(f"{label}: model '{scope}' has a <link> with no name")
    names = [scoped + name for name in own]
    for name in names:
        if name in links:
            raise DescriptionError(f"{label}: link '{name}' is declared twice")
        links[name] = None
    if _text(model, "static").lower() in ("true", "1"):
        static.update(names)
    for nested in model.findall("model"):
        _read_model(nested, f"{scoped}{nested.get('name') or ''}::", label, links, joints, static, warnings)
    for element in model.findall("joint"):
        name = element.get("name")
        if not name:
            raise DescriptionError(f"{label}: a <joint>{where(element)} in model '{scope}' has no name")
        kind = element.get("type")
        if kind not in JOINT_DOF:
            raise DescriptionError(
                f"{label}: joint '{name}'{where(element)} has unknown type '{kind}'; "
                f"expected one of {', '.join(JOINT_DOF)}"
            )
        ends = {}
        for end in ("parent", "child"):
            target = _text(element, end)
            if not target:
                raise DescriptionError(f"{label}: joint '{name}'{where(element)} has no <{end}>")
            resolved = _resolve_link(target, scoped, links)
            if resolved is None:
                raise DescriptionError(f"{label}: joint '{name}'{where(element)} names missing {end} link '{target}'")
            ends[end] = resolved
        if kind == "gearbox":
            warnings.append(f"gearbox joint '{name}' couples two joints; the coupling is not considered")
        joints.append(
            Joint(
                name=scoped + name,
                type=kind,
                parent=ends["parent"],
                child=ends["child"],
                dof=JOINT_DOF[kind],
                effort=_effort(element),
            )
        )


def _resolve_link(target: str, scoped: str, links: dict[str, None]) -> str | None:
    if target == "world":
        return "world"
    for candidate in (scoped + target, target):
        if candidate in links:
            return candidate
    return None


def _check_acyclic(links: list[str], joints: list[Joint], starts: list[str], label: str) -> None:
    children: dict[str, list[str]] = {}
    for joint in joints:
        children.setdefault(joint.parent, []).append(joint.child)
    seen, stack = set(starts), list(starts)
    while stack:
        for child in children.get(stack.pop(), []):
            seen.add(child)
            stack.append(child)
    cyclic = [link for link in links if link not in seen]
    if cyclic:
        raise DescriptionError(f"{label}: links {', '.join(repr(c) for c in cyclic[:5])} form a cycle of joints")
