"""Reading a URDF's kinematic tree and actuators (transmissions, ros2_control) into a `Description`.

Rules, as Drake and Gazebo read a URDF (see the issue text in README): the base is floating unless a joint
attaches the root to a link named `world` (and that joint is not `floating`); actuators come from
`<transmission>` joints and `<ros2_control>` joints with a command interface; a transmitted joint whose
`<limit effort="0">` is passive; with neither block in the file every independent joint is assumed actuated.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

from underact.description import uris
from underact.description.model import Description, Joint, assemble
from underact.description.xml import DescriptionError, where

JOINT_DOF = {"revolute": 1, "continuous": 1, "prismatic": 1, "fixed": 0, "floating": 6, "planar": 3}
XACRO_NAMESPACE = "{http://www.ros.org/wiki/xacro}"


def read_urdf(root: ET.Element, path: Path, base_mode: str, actuation_mode: str) -> Description:
    """Reads a parsed `<robot>` element. Raises DescriptionError for a file that is not one kinematic tree."""
    label = path.name
    warnings: list[str] = []
    _refuse_xacro(root, label)
    name = root.get("name") or ""
    if not name:
        name = path.stem
        warnings.append(f"<robot> has no name; using '{name}' (Drake refuses such files)")
    links = _links(root, label, warnings)
    unresolved = _check_meshes(root, path.parent, warnings)
    joints, elements = _joints(root, label, links, warnings)
    root_link = _tree_root(links, joints, elements, label)
    masters = _mimic_masters(joints, elements, label, warnings)

    floating_joint = None
    if root_link == "world":
        floating_joint = next((j for j in joints if j.parent == "world" and j.type == "floating"), None)
    floating = root_link != "world" or floating_joint is not None
    base_joint = floating_joint.name if floating_joint is not None else None
    independent = [j.name for j in joints if j.dof > 0 and j.name not in masters and j.name != base_joint]

    declared, source = _actuators(root, joints, independent, base_joint, warnings, actuation_mode)
    return assemble(
        path=path,
        name=name,
        format="urdf",
        joints=joints,
        independent=independent,
        links=links,
        root=root_link,
        floating=floating,
        source=source or "none",
        declared=declared,
        declares=bool(source),
        warnings=warnings,
        base_mode=base_mode,
        actuation_mode=actuation_mode,
        dependent=masters,
        unresolved_meshes=unresolved,
    )


def _refuse_xacro(root: ET.Element, label: str) -> None:
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith(XACRO_NAMESPACE):
            macro = element.tag[len(XACRO_NAMESPACE) :]
            raise DescriptionError(
                f"{label}: is a xacro template (<xacro:{macro}>{where(element)}); run `xacro` on it first"
            )


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return math.nan


def _links(root: ET.Element, label: str, warnings: list[str]) -> list[str]:
    links: dict[str, None] = {}  # ordered, with constant-time membership
    for element in root.findall("link"):
        name = element.get("name")
        if not name:
            warnings.append(f"a <link>{where(element)} has no name; ignored")
            continue
        if name in links:
            raise DescriptionError(f"{label}: link '{name}' is declared twice{where(element)}")
        links[name] = None
        _check_inertial(element, name, warnings)
    if not links:
        raise DescriptionError(f"{label}: has no <link> elements; nothing to classify")
    return list(links)


def _check_inertial(link: ET.Element, name: str, warnings: list[str]) -> None:
    inertial = link.find("inertial")
    if inertial is None:
        return
    mass = inertial.find("mass")
    value = _number(mass.get("value")) if mass is not None else None
    if value is not None and not (math.isfinite(value) and value >= 0):
        warnings.append(f"link '{name}': mass {mass.get('value')} is not a non-negative number; dynamics invalid")
    inertia = inertial.find("inertia")
    if inertia is not None:
        diagonal = [_number(inertia.get(k, "0")) for k in ("ixx", "iyy", "izz")]
        off = [_number(inertia.get(k, "0")) for k in ("ixy", "ixz", "iyz")]
        if not all(math.isfinite(v) for v in diagonal + off) or min(diagonal) < 0:
            warnings.append(f"link '{name}': inertia is not finite and non-negative; dynamics invalid")


def _check_meshes(root: ET.Element, base_dir: Path, warnings: list[str]) -> list[str]:
    unresolved = []
    for mesh in root.iter("mesh"):
        filename = mesh.get("filename", "")
        if uris.resolve(filename, base_dir) is None:
            unresolved.append(filename)
    if unresolved:
        warnings.append(
            f"{len(unresolved)} mesh file(s) not found (e.g. '{unresolved[0]}'); geometry ignored, "
            "classification needs none"
        )
    return unresolved


def _joints(
    root: ET.Element, label: str, links: list[str], warnings: list[str]
) -> tuple[list[Joint], dict[str, ET.Element]]:
    joints: list[Joint] = []
    elements: dict[str, ET.Element] = {}
    known = set(links) | {"world"}
    for index, element in enumerate(root.findall("joint"), start=1):
        name = element.get("name")
        if not name:
            name = f"unnamed_joint_{index}"
            warnings.append(f"joint #{index}{where(element)} has no name; called it '{name}' (engines refuse it)")
        if name in elements:
            raise DescriptionError(f"{label}: joint '{name}' is declared twice{where(element)}")
        kind = element.get("type")
        if kind not in JOINT_DOF:
            raise DescriptionError(
                f"{label}: joint '{name}'{where(element)} has unknown type '{kind}'; "
                f"expected one of {', '.join(JOINT_DOF)}"
            )
        ends = {}
        for end in ("parent", "child"):
            tag = element.find(end)
            link = tag.get("link") if tag is not None else None
            if not link:
                raise DescriptionError(f"{label}: joint '{name}'{where(element)} has no <{end} link=...>")
            if link not in known:
                raise DescriptionError(f"{label}: joint '{name}'{where(element)} names missing {end} link '{link}'")
            ends[end] = link
        if ends["parent"] == ends["child"]:
            raise DescriptionError(f"{label}: joint '{name}'{where(element)} connects link '{ends['child']}' to itself")
        mimic = element.find("mimic")
        limit = element.find("limit")
        effort = _number(limit.get("effort")) if limit is not None else None
        if effort is not None and effort < 0:
            raise DescriptionError(
                f"{label}: joint '{name}'{where(element)} has effort limit {effort:g}; an effort limit is a "
                "magnitude (Drake refuses a negative one): give effort >= 0, or 0 for a passive joint"
            )
        joints.append(
            Joint(
                name=name,
                type=kind,
                parent=ends["parent"],
                child=ends["child"],
                dof=JOINT_DOF[kind],
                mimic=(mimic.get("joint") or "") if mimic is not None else None,
                effort=effort,
            )
        )
        elements[name] = element
    return joints, elements


def _tree_root(links: list[str], joints: list[Joint], elements: dict[str, ET.Element], label: str) -> str:
    parent_of: dict[str, str] = {}
    for joint in joints:
        if joint.child in parent_of:
            raise DescriptionError(
                f"{label}: link '{joint.child}' is the child of two joints ('{parent_of[joint.child]}' and "
                f"'{joint.name}'{where(elements[joint.name])}); a kinematic loop, URDF needs a tree"
            )
        parent_of[joint.child] = joint.name
    nodes = list(links) + (["world"] if "world" not in links and any(j.parent == "world" for j in joints) else [])
    roots = [link for link in nodes if link not in parent_of]
    if len(roots) > 1:
        shown = ", ".join(f"'{r}'" for r in roots[:5]) + (", ..." if len(roots) > 5 else "")
        raise DescriptionError(f"{label}: has {len(roots)} root links ({shown}); a URDF must be one connected tree")
    if not roots:
        raise DescriptionError(f"{label}: every link has a parent; the joints form a cycle")
    children: dict[str, list[str]] = {}
    for joint in joints:
        children.setdefault(joint.parent, []).append(joint.child)
    seen, stack = {roots[0]}, [roots[0]]
    while stack:
        for child in children.get(stack.pop(), []):
            seen.add(child)
            stack.append(child)
    cyclic = [link for link in nodes if link not in seen]
    if cyclic:
        raise DescriptionError(f"{label}: links {', '.join(repr(c) for c in cyclic[:5])} form a cycle of joints")
    return roots[0]


def _mimic_masters(
    joints: list[Joint], elements: dict[str, ET.Element], label: str, warnings: list[str]
) -> dict[str, tuple[str, float, float]]:
    """Each mimic joint's independent joint, multiplier and offset along the chain (q = multiplier·q_m + offset)."""
    by_name = {j.name: j for j in joints}
    step: dict[str, tuple[str, float, float]] = {}
    for joint in joints:
        if joint.mimic is None:
            continue
        element = elements[joint.name].find("mimic")
        if joint.mimic not in by_name:
            warnings.append(
                f"joint '{joint.name}'{where(element)} mimics missing joint '{joint.mimic}'; counted as independent"
            )
            continue
        multiplier = _number(element.get("multiplier", "1"))
        offset = _number(element.get("offset", "0"))
        if multiplier is None or not math.isfinite(multiplier) or offset is None or not math.isfinite(offset):
            raise DescriptionError(f"{label}: joint '{joint.name}' has a non-numeric mimic multiplier or offset"
                                   f"{where(element)}")
        step[joint.name] = (joint.mimic, multiplier, offset)
    masters: dict[str, tuple[str, float, float]] = {}
    for name in step:
        path, current, visited = [], name, set()
        while current in step and current not in masters:  # follow the chain until a joint already resolved
            if current in visited:
                raise DescriptionError(f"{label}: mimic joints form a cycle through '{name}'")
            visited.add(current)
            path.append(current)
            current = step[current][0]
        master, product, shift = masters.get(current, (current, 1.0, 0.0))
        for joint in reversed(path):  # q_joint = m·q_next + o, q_next = product·q_master + shift
            _, m, o = step[joint]
            product, shift = m * product, m * shift + o
            masters[joint] = (master, product, shift)
    return masters


def _transmission_type(transmission: ET.Element) -> str:
    """The type's last path component: `<type>` text (ROS1/ROS2) or the `type=` attribute (older ROS1)."""
    kind = (transmission.findtext("type") or transmission.get("type") or "").strip()
    return kind.rsplit("/", 1)[-1]


def _reduction(element: ET.Element | None) -> float:
    value = _number(element.findtext("mechanicalReduction")) if element is not None else None
    return 1.0 if value is None else value


def _transmitted(element: ET.Element) -> list[ET.Element]:
    """The joints a transmission names: children whose tag ends in 'joint' (not passive_joint), with a name."""
    out = []
    for child in element:
        tag = child.tag.lower() if isinstance(child.tag, str) else ""
        if tag.endswith("joint") and tag != "passive_joint" and child.get("name"):
            out.append(child)
    return out


def _by_role(elements: list[ET.Element], prefix: str) -> list[ET.Element]:
    """Elements ordered by their `<role>` (actuator1, actuator2 / joint1, joint2), file order otherwise."""
    roles = [(e.findtext("role") or "").strip() for e in elements]
    if sorted(roles) == [f"{prefix}{k}" for k in range(1, len(elements) + 1)]:
        return [e for _, e in sorted(zip(roles, elements, strict=True), key=lambda pair: pair[0])]
    return elements


def _transmission_actuators(transmission: ET.Element, index: int, warnings_by: dict[str, list[str]]) -> list:
    """The actuators one `<transmission>` declares, in the joints' own coordinates (before any checks)."""
    from underact.description.actuation import Actuator

    kind = _transmission_type(transmission)
    label = transmission.get("name") or f"transmission #{index}"
    joints = _transmitted(transmission)
    motors = transmission.findall("actuator")
    if kind == "DifferentialTransmission" and len(joints) == 2 and len(motors) == 2:
        (a1, a2), (j1, j2) = _by_role(motors, "actuator"), _by_role(joints, "joint")
        ar1, ar2, jr1, jr2 = _reduction(a1), _reduction(a2), _reduction(j1), _reduction(j2)
        names = (j1.get("name"), j2.get("name"))
        return [
            Actuator(a1.get("name") or f"{label}_actuator1", names, (jr1 * ar1, jr2 * ar1), source="differential"),
            Actuator(a2.get("name") or f"{label}_actuator2", names, (jr1 * ar2, -jr2 * ar2), source="differential"),
        ]
    if kind.endswith("SimpleTransmission") and len(joints) > 1:
        name = (motors[0].get("name") if motors else None) or label
        reductions = tuple(_reduction(j) for j in joints)
        return [Actuator(name, tuple(j.get("name") for j in joints), reductions, source="transmission")]
    if not kind.endswith("SimpleTransmission") and kind:
        warnings_by.setdefault(f"of type {kind} read as one actuator per joint it names", []).append(label)
    if len(joints) == 1:
        name = (motors[0].get("name") if motors else None) or f"{joints[0].get('name')}_actuator"
        return [Actuator(name, (joints[0].get("name"),), (1.0,), source="transmission")]
    return [Actuator(f"{label}:{j.get('name')}", (j.get("name"),), (1.0,), source="transmission") for j in joints]


def _ros2_control_joints(root: ET.Element) -> list[str]:
    names = []
    for block in root.iter("ros2_control"):
        for joint in block.findall("joint"):
            if joint.find("command_interface") is not None and joint.get("name"):
                names.append(joint.get("name"))
    return names


def _actuators(
    root: ET.Element,
    joints: list[Joint],
    independent: list[str],
    base_joint: str | None,
    warnings: list[str],
    actuation_mode: str = "auto",
) -> tuple[list, str]:
    """The declared actuators (transmissions, then ros2_control joints no transmission drives) and the source
    label ("" when the file has neither block)."""
    from underact.description.actuation import Actuator, check_mode

    has_transmissions = any(True for _ in root.iter("transmission"))
    has_ros2 = any(True for _ in root.iter("ros2_control"))
    source = "+".join(s for s, present in (("transmission", has_transmissions), ("ros2_control", has_ros2)) if present)
    if not source:
        return [], ""
    by_name = {j.name: j for j in joints}
    found: dict[str, list[str]] = {}  # warning -> transmissions or joints
    candidates = []
    for index, transmission in enumerate(root.iter("transmission"), start=1):
        candidates += _transmission_actuators(transmission, index, found)
    transmitted = {j for a in candidates for j in a.joints}
    for name in _ros2_control_joints(root):
        if name not in transmitted:
            candidates.append(Actuator(name, (name,), (1.0,), source="ros2_control"))
            transmitted.add(name)
    declared = []
    for actuator in candidates:
        problem = None
        for name in actuator.joints:
            joint = by_name.get(name)
            if joint is None:
                problem = "name missing joints; ignored"
            elif joint.dof == 0:
                problem = "act on fixed joints; ignored"
            elif name == base_joint:
                problem = "act on the floating-base joint; ignored"
            elif len(actuator.joints) == 1 and actuator.source == "transmission" and joint.effort == 0:
                problem = "sit on joints with effort limit 0: passive (as Drake reads it)"
            elif joint.dof > 1:
                found.setdefault("act on multi-DoF joints: first coordinate only", []).append(name)
        if problem:
            found.setdefault(problem, []).append(actuator.joints[0] if problem != "name missing joints; ignored"
                                                 else next(n for n in actuator.joints if n not in by_name))
            continue
        effort = by_name[actuator.joints[0]].effort if len(actuator.joints) == 1 else None
        declared.append(Actuator(actuator.name, actuator.joints, actuator.reductions, source=actuator.source,
                                 effort=effort if effort is not None and math.isfinite(effort) else None))
    for reason, names in found.items():
        shown = ", ".join(f"'{n}'" for n in names[:3]) + (", ..." if len(names) > 3 else "")
        warnings.append(f"{len(names)} transmission(s) {reason} ({shown})" if reason.startswith("of type")
                        else f"{len(names)} actuator(s) {reason} ({shown})")
    driven = {j for a in declared for j in a.joints}
    passive = [name for name in independent if name not in driven]
    if passive and check_mode(actuation_mode) != "assumed":
        warnings.append(
            f"{source} covers {len(independent) - len(passive)} of {len(independent)} independent joints; "
            f"{len(passive)} passive"
        )
    return declared, source
