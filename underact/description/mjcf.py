"""Reading an MJCF model's joints and actuators into a `Description`.

When MuJoCo compiles the file, the actuation map is MuJoCo's own actuator moment matrix (nu × nv), so
tendons, sites, slider-cranks and gears all count; it is evaluated at `qpos0` and, unless that is already
of full rank, at two random configurations, and the one of highest rank kept. When MuJoCo refuses the file
(missing meshes), the model is read from the XML alone, includes and default classes' joint types followed:
joint and fixed-tendon actuators are counted, site, body and spatial tendon actuators cannot be (a warning
says so), and actuator gears set only through default classes read as 1. The base floats when a top-level
body has a free joint.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from underact.description.model import BASE, Description, Joint, actuation_rank, assemble
from underact.description.xml import DescriptionError, safe_parse

JOINT_DOF = {"free": 6, "ball": 3, "slide": 1, "hinge": 1}
ACTUATOR_TAGS = {
    "motor",
    "position",
    "velocity",
    "general",
    "intvelocity",
    "damper",
    "cylinder",
    "muscle",
    "adhesion",
    "plugin",
}


def read_mjcf(root: ET.Element, path: Path, base_mode: str, actuation_mode: str) -> Description:
    """Reads a parsed `<mujoco>` element (already checked as safe XML); compiles it with MuJoCo if it can."""
    warnings: list[str] = []
    if root.find("worldbody/body") is None and root.find("include") is None:
        raise DescriptionError(f"{path.name}: <mujoco> has no <worldbody> with a <body>; nothing to classify")
    try:
        found = _from_engine(path, warnings)
    except Exception as exc:  # any engine failure (ValueError, mujoco.FatalError, ...) falls back to the XML
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        warnings.append(f"MuJoCo refused the file ({reason}); actuation read from the XML alone")
        found = _from_xml(root, path, warnings)
    joints, links, rows, base_joint, couplings = found
    floating = base_joint is not None
    masters = _resolve(couplings, warnings)
    rows = [_fold(row, masters) for row in rows]
    if root.find("equality/tendon") is not None:
        warnings.append("tendon equality constraints are not considered; dof counts every joint")
    independent = [j.name for j in joints if j.dof > 0 and j.name != base_joint and j.name not in masters]
    return assemble(
        path=path,
        name=root.get("model") or path.stem,
        format="mjcf",
        joints=joints,
        independent=independent,
        links=links,
        root=links[1] if len(links) > 1 else "world",
        floating=floating,
        source="mjcf",
        moment_rows=rows,
        warnings=warnings,
        base_mode=base_mode,
        actuation_mode=actuation_mode,
    )


Found = tuple[
    list[Joint], list[str], list[dict[tuple[str, int], float]], str | None, dict[str, tuple[str | None, float]]
]
"""A reader's findings: joints, bodies (world first), moment-arm rows per actuator, the base's free joint, and
joint couplings {dependent: (joint it follows or None when locked, multiplier)} from `<equality><joint>`."""


def _from_engine(path: Path, warnings: list[str]) -> Found:
    """Compiles with MuJoCo, its warnings going to `warnings` (else it writes MUJOCO_LOG.TXT in the cwd)."""
    import mujoco

    previous = mujoco.get_mju_user_warning()
    mujoco.set_mju_user_warning(lambda message: warnings.append(f"MuJoCo: {message.strip()}"))
    try:
        return _compile(mujoco, path)
    finally:
        mujoco.set_mju_user_warning(previous)


def _compile(mujoco, path: Path) -> Found:
    model = mujoco.MjModel.from_xml_path(str(path))
    data = mujoco.MjData(model)
    body_names = [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, b) or f"body{b}" for b in range(model.nbody)]
    kinds = {0: "free", 1: "ball", 2: "slide", 3: "hinge"}
    joints, base_joint = [], None
    for j in range(model.njnt):
        name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, j) or f"joint{j}"
        body = int(model.jnt_bodyid[j])
        kind = kinds[int(model.jnt_type[j])]
        joints.append(Joint(name, kind, body_names[int(model.body_parentid[body])], body_names[body], JOINT_DOF[kind]))
        if kind == "free" and base_joint is None and int(model.body_parentid[body]) == 0:
            base_joint = name
    columns = []
    for dof in range(model.nv):
        joint = int(model.dof_jntid[dof])
        owner = joints[joint].name
        k = dof - int(model.jnt_dofadr[joint])
        columns.append((BASE, k) if owner == base_joint else (owner, k))
    best = np.zeros((model.nu, model.nv))
    rng = np.random.default_rng(0)
    for trial in range(3):
        if trial and actuation_rank(best) == min(model.nu, model.nv):
            break  # full rank already; another configuration cannot add any
        if trial:
            _random_configuration(model, data, rng)
        mujoco.mj_forward(model, data)
        moment = np.zeros((model.nu, model.nv))
        if model.nu:
            mujoco.mju_sparse2dense(
                moment, data.actuator_moment, data.moment_rownnz, data.moment_rowadr, data.moment_colind
            )
        if actuation_rank(moment) > actuation_rank(best):
            best = moment
    rows = [{columns[c]: float(best[r, c]) for c in np.flatnonzero(best[r])} for r in range(model.nu)]
    couplings = {}
    for e in range(model.neq):
        if int(model.eq_type[e]) == int(mujoco.mjtEq.mjEQ_JOINT) and model.eq_active0[e]:
            first, second = int(model.eq_obj1id[e]), int(model.eq_obj2id[e])
            master = joints[second].name if second >= 0 else None
            couplings[joints[first].name] = (master, float(model.eq_data[e, 1]))
    return joints, body_names, rows, base_joint, couplings


def _resolve(
    couplings: dict[str, tuple[str | None, float]], warnings: list[str]
) -> dict[str, tuple[str | None, float]]:
    """Each coupled joint's independent joint (None: locked) and the product of multipliers along the way."""
    masters = {}
    for name in couplings:
        current, product, seen = name, 1.0, {name}
        while current in couplings:
            current, factor = couplings[current]
            product *= factor
            if current in seen:
                warnings.append(f"joint equality constraints form a cycle through '{name}'; ignored")
                break
            seen.add(current)
        else:
            masters[name] = (current, product)
    return masters


def _fold(
    row: dict[tuple[str, int], float], masters: dict[str, tuple[str | None, float]]
) -> dict[tuple[str, int], float]:
    """An actuator's moment arms with each coupled joint's share moved onto the joint it follows (virtual work:
    a torque τ on a joint q_d = c·q_m acts as c·τ on q_m); a locked joint's share is dropped."""
    folded: dict[tuple[str, int], float] = {}
    for (owner, k), value in row.items():
        if owner in masters:
            master, multiplier = masters[owner]
            if master is None:
                continue
            owner, value = master, value * multiplier
        folded[(owner, k)] = folded.get((owner, k), 0.0) + value
    return folded


def _random_configuration(model, data, rng: np.random.Generator) -> None:
    """Sets hinge and slide joints to random positions within their ranges (±1 where unlimited)."""
    data.qpos[:] = model.qpos0
    for j in range(model.njnt):
        if int(model.jnt_type[j]) in (2, 3):
            low, high = model.jnt_range[j] if model.jnt_limited[j] else (-1.0, 1.0)
            data.qpos[model.jnt_qposadr[j]] = rng.uniform(low, high)


def _number(text: str | None, default: float) -> float:
    """A numeric attribute; `default` when absent or not a number (the XML-only reader never raises on one)."""
    try:
        return float(text) if text is not None else default
    except ValueError:
        return default


def _joint_types(root: ET.Element) -> dict[str, str]:
    """The joint type each default class gives (inherited through nested `<default>`s; "main" is the top)."""
    types: dict[str, str] = {}

    def visit(default: ET.Element, inherited: str) -> None:
        name = default.get("class", "main")
        joint = default.find("joint")
        types[name] = joint.get("type", inherited) if joint is not None else inherited
        for child in default.findall("default"):
            visit(child, types[name])

    for default in root.findall("default"):
        visit(default, "hinge")
    return types


def _expand_includes(root: ET.Element, base_dir: Path, label: str, depth: int = 0) -> None:
    """Replaces each `<include file=...>` by the children of that file's root, in place (as MuJoCo does)."""
    for parent in list(root.iter()):
        for index, child in reversed(list(enumerate(parent))):
            if child.tag != "include":
                continue
            if depth >= 8:
                raise DescriptionError(f"{label}: <include> nested more than 8 deep (do two files include each other?)")
            included = safe_parse(base_dir / (child.get("file") or ""))
            _expand_includes(included, base_dir, label, depth + 1)
            parent.remove(child)
            for offset, element in enumerate(list(included)):
                parent.insert(index + offset, element)


def _from_xml(root: ET.Element, path: Path, warnings: list[str]) -> Found:
    _expand_includes(root, path.parent, path.name)
    class_types = _joint_types(root)
    joints: list[Joint] = []
    links = ["world"]
    base_joint = None

    def visit(body: ET.Element, parent: str, top: bool, childclass: str) -> None:
        nonlocal base_joint
        name = body.get("name") or f"body{len(links)}"
        links.append(name)
        childclass = body.get("childclass", childclass)
        for element in body:
            if element.tag not in ("joint", "freejoint"):
                continue
            kind = "free" if element.tag == "freejoint" else element.get("type")
            kind = kind or class_types.get(element.get("class", childclass), "hinge")
            if kind not in JOINT_DOF:
                raise DescriptionError(f"{path.name}: joint in body '{name}' has unknown type '{kind}'")
            joint = Joint(element.get("name") or f"joint{len(joints)}", kind, parent, name, JOINT_DOF[kind])
            joints.append(joint)
            if kind == "free" and top and base_joint is None:
                base_joint = joint.name
        for child in body.findall("body"):
            visit(child, name, False, childclass)

    for body in root.findall("worldbody/body"):
        visit(body, "world", True, "main")
    dof_of = {j.name: j.dof for j in joints}
    tendons = {
        t.get("name"): {(j.get("joint"), 0): _number(j.get("coef"), 1.0) for j in t.findall("joint")}
        for t in root.findall("tendon/fixed")
    }
    rows, unknown = [], 0
    for actuator in root.findall("actuator/*"):
        if actuator.tag not in ACTUATOR_TAGS:
            continue
        gear = _number((actuator.get("gear") or "1").split()[0], 1.0)
        target = actuator.get("joint") or actuator.get("jointinparent")
        if target in dof_of:
            owner = BASE if target == base_joint else target
            rows.append({(owner, 0): gear})
        elif actuator.get("tendon") in tendons:
            rows.append({key: gear * value for key, value in tendons[actuator.get("tendon")].items()})
        else:
            unknown += 1
    if unknown:
        warnings.append(f"{unknown} actuator(s) on sites, bodies or spatial tendons not counted without MuJoCo")
    couplings = {}
    for equality in root.findall("equality/joint"):
        if equality.get("active", "true") in ("true", "1") and equality.get("joint1") in dof_of:
            coefficients = (equality.get("polycoef") or "0 1 0 0 0").split()
            multiplier = _number(coefficients[1], 1.0) if len(coefficients) > 1 else 1.0
            couplings[equality.get("joint1")] = (equality.get("joint2") or None, multiplier)
    return joints, links, rows, base_joint, couplings
