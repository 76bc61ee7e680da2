"""Reading an MJCF model's joints and actuators into a `Description`.

When MuJoCo compiles the file, the actuation map is MuJoCo's own actuator moment matrix (nu × nv), so
tendons, sites, slider-cranks and gears all count; it is evaluated at `qpos0` and, unless that is already
of full rank, at two random configurations, and the one of highest rank kept. When MuJoCo refuses the file
(missing meshes), the model is read from the XML alone, includes and default classes' joint types followed:
joint and fixed-tendon actuators are counted, site and spatial tendon actuators cannot be (a warning says
so), and actuator gears set only through default classes read as 1. The base floats when a top-level body
has a free joint.

Actuators with a body transmission (`<adhesion>`) act only through contact, so their moment arms depend on
the scene (a floor or not), not on the robot: they are left out, with a warning naming them. A joint that an
active `<equality><joint joint1 joint2>` couples to another is dependent, like a URDF mimic joint (its
actuators' share moves onto the joint it follows), and one without joint2 is locked; each such equality
gets a warning naming it, the joints and the dof change. Other equalities (weld, connect, tendon, flex) and
inactive ones change no count and are listed in one warning as not used.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from underact.description.actuation import Actuator
from underact.description.model import BASE, Description, Joint, assemble, sparse_rank
from underact.description.references import mjcf_include_candidates, vet_parsed
from underact.description.xml import DescriptionError, IncludeBudget
from underact.errors import UnderactError, one_line
from underact.plants.base import FLOATING_VELOCITY_ORDER

#: MuJoCo's free-joint velocity k (linear first) is the floating base's coordinate `_FREE_TO_FLOATING[k]`.
_FREE_TO_FLOATING = tuple(FLOATING_VELOCITY_ORDER.index(a) for a in ("vx", "vy", "vz", "wx", "wy", "wz"))

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
    """Reads a parsed `<mujoco>` element (already checked as safe XML); compiles it with MuJoCo if it can.

    Every file the model reaches is vetted first (`vet_parsed`): MuJoCo would block on a pipe named as a mesh,
    and the XML fallback must not expand an include fan-out."""
    warnings: list[str] = []
    if root.find("worldbody/body") is None and root.find("include") is None:
        raise DescriptionError(f"{path.name}: <mujoco> has no <worldbody> with a <body>; nothing to classify")
    vet_parsed(root, path)  # missing files are left to MuJoCo, whose refusal is a warning below
    try:
        found = _from_engine(path, warnings)
    except Exception as exc:  # any engine failure (its refusal, mujoco.FatalError, ...) falls back to the XML
        refusal = str(exc) if isinstance(exc, UnderactError) else f"{path.name}: MuJoCo failed: {one_line(exc)}"
        warnings.append(f"{refusal}; actuation read from the XML alone")
        found = _from_xml(root, path, warnings)
    if found.contact_only:
        shown = ", ".join(found.contact_only[:3]) + (", ..." if len(found.contact_only) > 3 else "")
        warnings.append(
            f"{len(found.contact_only)} actuator(s) act only through contact (adhesion, body transmission): "
            f"not counted ({shown})"
        )
    floating = found.base_joint is not None
    base_dof = 6 if base_mode == "floating" or (base_mode == "auto" and floating) else 0
    masters = _couple(found, base_dof, warnings)
    independent = [j.name for j in found.joints if j.dof > 0 and j.name != found.base_joint and j.name not in masters]
    return assemble(
        path=path,
        name=root.get("model") or path.stem,
        format="mjcf",
        joints=found.joints,
        independent=independent,
        links=found.links,
        root=found.links[1] if len(found.links) > 1 else "world",
        floating=floating,
        source="mjcf",
        declared=found.actuators,
        declares=found.declares,
        warnings=warnings,
        base_mode=base_mode,
        actuation_mode=actuation_mode,
        dependent=masters,
    )


@dataclass(frozen=True)
class Equality:
    """An `<equality>` constraint: `kind` (joint, weld, connect, tendon, flex, ...), a label for warnings, and
    for a joint equality the joints (`joint2` None: joint1 locked), dq1/dq2 at q2 = 0 (polycoef's a1) and q1 at
    q2 = 0 (polycoef's a0)."""

    label: str
    kind: str
    active: bool
    joint1: str | None = None
    joint2: str | None = None
    multiplier: float = 1.0
    offset: float = 0.0


@dataclass
class Found:
    """A reader's findings: joints, bodies (world first), the counted actuators, names of the actuators that
    act only through contact (left out), the base's free joint, the equalities, and whether the file declares
    any actuator at all."""

    joints: list[Joint]
    links: list[str]
    actuators: list[Actuator]
    contact_only: list[str]
    base_joint: str | None
    equalities: list[Equality]
    declares: bool = True


def _from_engine(path: Path, warnings: list[str]) -> Found:
    """Compiles with MuJoCo (`underact.engines.mujoco`), its warnings going to `warnings`."""
    from underact.engines import mujoco as engine

    with engine.messages(warnings):
        return _compile(engine.mujoco, engine.load_file(path, path.name), warnings)


def _compile(mujoco, model, warnings: list[str]) -> Found:
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
        columns.append((BASE, _FREE_TO_FLOATING[k]) if owner == base_joint else (owner, k))
    contact = [int(model.actuator_trntype[a]) == int(mujoco.mjtTrn.mjTRN_BODY) for a in range(model.nu)]
    counted = [a for a in range(model.nu) if not contact[a]]
    best: list[dict[int, float]] = []
    rng = np.random.default_rng(0)
    for trial in range(3):
        if trial and sparse_rank(best) == min(len(counted), model.nv):
            break  # full rank already; another configuration cannot add any
        if trial:
            _random_configuration(model, data, rng)
        mujoco.mj_forward(model, data)
        arms = [_moment_row(data, a) for a in counted]
        if not trial or sparse_rank(arms) > sparse_rank(best):
            best = arms
    gains = authority(mujoco, model, counted, warnings)
    actuators = []
    for a, row, gain in zip(counted, best, gains, strict=True):
        keys = [columns[c] for c in row]
        limited = bool(model.actuator_ctrllimited[a])
        actuators.append(Actuator(
            mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_ACTUATOR, a) or f"actuator{a}",
            tuple(owner for owner, _ in keys), tuple(row.values()), tuple(k for _, k in keys), gain=gain,
            source="mjcf", effort=float(np.abs(model.actuator_ctrlrange[a]).max()) if limited else None,
        ))
    contact_only = [
        _name(mujoco, model, mujoco.mjtObj.mjOBJ_ACTUATOR, a, "actuator ") for a in range(model.nu) if contact[a]
    ]
    equalities = []
    for e in range(model.neq):
        kind = mujoco.mjtEq(int(model.eq_type[e])).name.removeprefix("mjEQ_").lower()
        label = _name(mujoco, model, mujoco.mjtObj.mjOBJ_EQUALITY, e, "")
        if kind == "joint":
            first, second = int(model.eq_obj1id[e]), int(model.eq_obj2id[e])
            master = joints[second].name if second >= 0 else None
            equalities.append(Equality(label, kind, bool(model.eq_active0[e]), joints[first].name, master,
                                       float(model.eq_data[e, 1]), float(model.eq_data[e, 0])))
        else:
            equalities.append(Equality(label, kind, bool(model.eq_active0[e])))
    return Found(joints, body_names, actuators, contact_only, base_joint, equalities, model.nu > 0)


def authority(mujoco, model, counted: list[int], warnings: list[str]) -> list[float]:
    """Each counted actuator's gain (`gainprm[0]`; 1 for muscles and user gains, whose gain is a state
    function), 0 where it has no authority: gain 0, `<flag actuation="disable"/>`, or its group disabled
    (`<option actuatorgroupdisable>`); one warning per cause naming the actuators."""
    name = [_name(mujoco, model, mujoco.mjtObj.mjOBJ_ACTUATOR, a, "actuator ") for a in counted]
    fixed_or_affine = {int(mujoco.mjtGain.mjGAIN_FIXED), int(mujoco.mjtGain.mjGAIN_AFFINE)}
    gains = [float(model.actuator_gainprm[a, 0]) if int(model.actuator_gaintype[a]) in fixed_or_affine else 1.0
             for a in counted]
    silent = [i for i, g in enumerate(gains) if g == 0.0]
    if silent:
        warnings.append(f"{len(silent)} actuator(s) with gain 0 (gainprm 0, kp 0) have no authority: their column "
                        f"of B is zero ({_shown([name[i] for i in silent])})")
    if model.opt.disableflags & int(mujoco.mjtDisableBit.mjDSBL_ACTUATION):
        if counted:
            warnings.append(f'<flag actuation="disable"/>: all {len(counted)} actuator(s) have no authority; B is zero')
        return [0.0] * len(counted)
    groups = [i for i, a in enumerate(counted) if 0 <= int(model.actuator_group[a]) < 31
              and model.opt.disableactuator & (1 << int(model.actuator_group[a]))]
    if groups:
        warnings.append(f"{len(groups)} actuator(s) in a disabled group (actuatorgroupdisable) have no authority: "
                        f"their column of B is zero ({_shown([name[i] for i in groups])})")
        for i in groups:
            gains[i] = 0.0
    return gains


def _shown(names: list[str]) -> str:
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def _moment_row(data, actuator: int) -> dict[int, float]:
    """Actuator `actuator`'s non-zero moment arms {dof: arm}, read from MuJoCo's sparse moment matrix."""
    start = int(data.moment_rowadr[actuator])
    stop = start + int(data.moment_rownnz[actuator])
    return {
        int(c): float(v)
        for c, v in zip(data.moment_colind[start:stop], data.actuator_moment[start:stop], strict=True)
        if v != 0
    }


def _name(mujoco, model, kind, index: int, prefix: str) -> str:
    """'name' in quotes, or `prefix` and '#index' for an unnamed element (its index in its section)."""
    name = mujoco.mj_id2name(model, kind, index)
    return f"'{name}'" if name else f"{prefix}#{index}"


def _couple(found: Found, base_dof: int, warnings: list[str]) -> dict[str, tuple[str | None, float, float]]:
    """Each joint an active joint equality makes dependent, with the independent joint it follows (None when
    locked) and the product of multipliers along the way; a warning for every equality, naming it, the joints
    and the change of dof (or that it is not used)."""
    dof_of = {j.name: j.dof for j in found.joints}
    dof = base_dof + sum(j.dof for j in found.joints if j.name != found.base_joint)
    couplings: dict[str, tuple[str | None, float, float]] = {}
    unused = []
    for eq in found.equalities:
        if eq.kind != "joint" or not eq.active:
            unused.append(f"{eq.kind} {eq.label}" + ("" if eq.active else " (inactive)"))
            continue
        if eq.joint1 not in dof_of or (eq.joint2 is not None and eq.joint2 not in dof_of):
            unused.append(f"joint {eq.label} (names a missing joint)")
            continue
        if eq.joint1 in couplings:
            unused.append(f"joint {eq.label} (joint '{eq.joint1}' is already coupled)")
            continue
        if _leads_back(couplings, eq.joint2, eq.joint1):
            unused.append(f"joint {eq.label} (closes a cycle of joint equalities through '{eq.joint1}')")
            continue
        couplings[eq.joint1] = (eq.joint2, eq.multiplier, eq.offset)
        after = dof - dof_of[eq.joint1]
        if eq.joint2 is None:
            warnings.append(f"equality {eq.label} locks {eq.joint1}: counted as fixed (dof {dof} -> {after})")
        else:
            warnings.append(
                f"equality {eq.label} couples {eq.joint1} to {eq.joint2}: counted as dependent (dof {dof} -> {after})"
            )
        dof = after
    if unused:
        shown = ", ".join(unused[:4]) + (f", +{len(unused) - 4} more" if len(unused) > 4 else "")
        warnings.append(f"{len(unused)} equality constraint(s) not used; dof counts their joints: {shown}")
    return _resolve(couplings)


def _leads_back(couplings: dict[str, tuple[str | None, float, float]], start: str | None, target: str) -> bool:
    """Whether following the couplings from `start` reaches `target`."""
    current = start
    for _ in range(len(couplings) + 1):
        if current == target:
            return True
        if current not in couplings:
            return False
        current = couplings[current][0]
    return False


def _resolve(couplings: dict[str, tuple[str | None, float, float]]) -> dict[str, tuple[str | None, float, float]]:
    """Each coupled joint's independent joint (None: locked), multiplier and offset along the way (`couplings`
    holds no cycle): q = multiplier·q_master + offset."""
    masters: dict[str, tuple[str | None, float, float]] = {}
    for name in couplings:
        path, current = [], name
        while current in couplings and current not in masters:
            path.append(current)
            current = couplings[current][0]
        master, product, shift = masters.get(current, (current, 1.0, 0.0))
        for joint in reversed(path):
            _, m, o = couplings[joint]
            product, shift = m * product, m * shift + o
            masters[joint] = (master, product, shift)
    return masters


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


def _expand_includes(root: ET.Element, path: Path, main: Path, budget: IncludeBudget, depth: int = 0) -> None:
    """Replaces each `<include file=...>` in `root` (of file `path`) by the children of that file's root, in
    place (as MuJoCo does), reading within `budget`."""
    for parent in list(root.iter()):
        for index, child in reversed(list(enumerate(parent))):
            if child.tag != "include":
                continue
            name = child.get("file") or ""
            candidates = mjcf_include_candidates(name, path, main)
            target = next((c for c in candidates if c.exists()), candidates[0])
            included = budget.parse(target, f"{path.name}: <include file='{name}'>", depth + 1)
            _expand_includes(included, target, main, budget, depth + 1)
            parent.remove(child)
            for offset, element in enumerate(list(included)):
                parent.insert(index + offset, element)


def _from_xml(root: ET.Element, path: Path, warnings: list[str]) -> Found:
    _expand_includes(root, path, path, IncludeBudget(path))
    class_types = _joint_types(root)
    joints: list[Joint] = []
    links = ["world"]
    base_joint = None
    # (body, parent body's name, top level, inherited childclass), depth first as MuJoCo numbers bodies
    stack = [(body, "world", True, "main") for body in reversed(root.findall("worldbody/body"))]
    while stack:
        body, parent, top, childclass = stack.pop()
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
        stack.extend((child, name, False, childclass) for child in reversed(body.findall("body")))
    dof_of = {j.name: j.dof for j in joints}
    tendons = {
        t.get("name"): {(j.get("joint"), 0): _number(j.get("coef"), 1.0) for j in t.findall("joint")}
        for t in root.findall("tendon/fixed")
    }
    actuators, contact_only, unknown = [], [], 0
    elements = [a for a in root.findall("actuator/*") if a.tag in ACTUATOR_TAGS]
    for index, actuator in enumerate(elements):
        gear = _number((actuator.get("gear") or "1").split()[0], 1.0)
        target = actuator.get("joint") or actuator.get("jointinparent")
        name = actuator.get("name") or f"actuator#{index}"
        if actuator.tag == "adhesion" or actuator.get("body"):
            contact_only.append(f"'{actuator.get('name')}'" if actuator.get("name") else f"actuator #{index}")
        elif target in dof_of:
            owner, axis = (BASE, _FREE_TO_FLOATING[0]) if target == base_joint else (target, 0)
            actuators.append(Actuator(name, (owner,), (gear,), (axis,), source="mjcf"))
        elif actuator.get("tendon") in tendons:
            pairs = tendons[actuator.get("tendon")]
            actuators.append(Actuator(name, tuple(j for j, _ in pairs), tuple(gear * v for v in pairs.values()),
                                      source="mjcf"))
        else:
            unknown += 1
    if unknown:
        warnings.append(f"{unknown} actuator(s) on sites or spatial tendons not counted without MuJoCo")
    return Found(joints, links, actuators, contact_only, base_joint, _xml_equalities(root), bool(elements))


def _xml_equalities(root: ET.Element) -> list[Equality]:
    equalities = []
    for index, element in enumerate(root.findall("equality/*")):
        if not isinstance(element.tag, str):
            continue
        label = f"'{element.get('name')}'" if element.get("name") else f"#{index}"
        active = element.get("active", "true") in ("true", "1")
        if element.tag != "joint":
            equalities.append(Equality(label, element.tag, active))
            continue
        coefficients = (element.get("polycoef") or "0 1 0 0 0").split()
        multiplier = _number(coefficients[1], 1.0) if len(coefficients) > 1 else 1.0
        offset = _number(coefficients[0], 0.0) if coefficients else 0.0
        joint1, joint2 = element.get("joint1") or None, element.get("joint2") or None
        equalities.append(Equality(label, "joint", active, joint1, joint2, multiplier, offset))
    return equalities
