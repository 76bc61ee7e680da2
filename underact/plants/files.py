"""Description files made ready for an engine: the base mode, the `world` link, geometry MuJoCo cannot use, gears.

Both engines should see the same robot. Drake reads URDF, SDF and MJCF itself; MuJoCo reads URDF and MJCF but
differs from Drake on what a URDF means, so the URDF MuJoCo gets is rewritten here (on a tree parsed from the
already-vetted file, never by pasting strings):

- `world` used as a parent but never declared (Drake's own `Acrobot.urdf`) is declared; its `<inertial>` (a
  placeholder in `Pendulum.urdf`) is dropped, as Drake ignores it;
- `<visual>`/`<collision>` are removed: the terms need no geometry, and MuJoCo refuses whole files over one
  mesh it cannot read (or a mesh "too small" for its volume); `inertiafromgeom` is off, so a link without
  `<inertial>` has no mass on either engine;
- the base mode: `fixed` welds a floating root to the world, `floating` frees a root bolted to `world` by a
  fixed joint (both engines).

MJCF `gear` is read here for Drake, whose parser drops it (MuJoCo applies it: the joint sees gear · u).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from underact.errors import UnderactError

BASE_MODES = ("auto", "fixed", "floating")
#: Floors MuJoCo needs on a moving body (its mjMINVAL is 1e-15); far below what the terms resolve.
MIN_MASS, MIN_INERTIA = 1e-12, 1e-14
ACTUATOR_TAGS = ("general", "motor", "position", "velocity", "intvelocity", "damper", "cylinder", "muscle")


def check_base(base: str) -> None:
    if base not in BASE_MODES:
        raise UnderactError(f"base must be one of {', '.join(BASE_MODES)}; got {base!r}")


def urdf_with_base(text: str, label: str, base: str) -> tuple[ET.Element, str | None]:
    """The URDF tree with `world` declared where used and the base mode applied, and the floating root's name
    (None when the robot is bolted to the world)."""
    root = ET.fromstring(text)
    joints = root.findall("joint")
    parents = {j.find("parent").get("link") for j in joints if j.find("parent") is not None}
    to_world = [j for j in joints if j.find("parent") is not None and j.find("parent").get("link") == "world"]
    if base == "floating" and to_world:
        moving = [j for j in to_world if j.get("type") not in ("fixed", "floating")]
        if moving:
            raise UnderactError(
                f"{label}: --base floating: link '{moving[0].find('child').get('link')}' is attached to the world "
                f"by the {moving[0].get('type')} joint '{moving[0].get('name')}', not bolted; use --base auto"
            )
        if len(to_world) > 1:
            raise UnderactError(f"{label}: --base floating: {len(to_world)} links are bolted to the world; use auto")
        root.remove(to_world[0])
        for world in [link for link in root.findall("link") if link.get("name") == "world"]:
            root.remove(world)
        to_world, parents = [], parents - {"world"}
    if to_world or "world" in parents:
        world = next((link for link in root.findall("link") if link.get("name") == "world"), None)
        if world is None:
            root.insert(0, ET.Element("link", name="world"))
        else:
            for element in list(world):
                world.remove(element)
        return root, None
    children = {j.find("child").get("link") for j in root.findall("joint") if j.find("child") is not None}
    links = [link.get("name") for link in root.findall("link")]
    roots = [name for name in links if name not in children and name != "world"]
    if len(roots) != 1:
        raise UnderactError(f"{label}: expected one root link, found {len(roots)}: {', '.join(roots[:5])}")
    return root, None if base == "fixed" else roots[0]


def massless_with_inertia(root: ET.Element, floor: float) -> list[str]:
    """Gives a link with `<mass value="0">` but a non-zero `<inertia>` the mass `floor` (Drake reads such a link
    as 1 kg, MuJoCo refuses it if it moves), and says so."""
    warnings = []
    for link in root.findall("link"):
        mass, inertia = link.find("inertial/mass"), link.find("inertial/inertia")
        if mass is None or inertia is None:
            continue
        try:
            value = float(mass.get("value", "0"))
            moments = [abs(float(inertia.get(k, "0"))) for k in ("ixx", "iyy", "izz", "ixy", "ixz", "iyz")]
        except ValueError:
            continue
        if value == 0.0 and max(moments) > 0.0:
            mass.set("value", repr(floor))
            warnings.append(
                f"link '{link.get('name')}': mass 0 with a non-zero inertia; mass set to {floor:g} kg on both engines "
                "(Drake would read 1 kg)"
            )
    return warnings


def strip_geometry(root: ET.Element) -> None:
    """Removes every `<visual>` and `<collision>` (the terms read only `<inertial>`)."""
    for link in root.findall("link"):
        for element in [e for e in link if e.tag in ("visual", "collision")]:
            link.remove(element)


def mjcf_gears(root: ET.Element) -> list[tuple[str | None, float]]:
    """(name, gear) of each joint-transmission actuator in file order, `gear` resolved through default classes."""
    classes = _default_classes(root)

    def gear_of(actuator: ET.Element) -> float:
        if actuator.get("gear"):
            return float(actuator.get("gear").split()[0])
        cls: str | None = actuator.get("class", "main")
        while cls is not None and cls in classes:
            element, parent = classes[cls]
            for child in element:
                if child.tag in ACTUATOR_TAGS and child.get("gear"):
                    return float(child.get("gear").split()[0])
            cls = parent
        return 1.0

    out = []
    for actuator in root.findall("actuator/*"):
        if actuator.tag in ACTUATOR_TAGS and (actuator.get("joint") or actuator.get("jointinparent")):
            try:
                out.append((actuator.get("name"), gear_of(actuator)))
            except ValueError:
                raise UnderactError(f"actuator '{actuator.get('name')}': gear is not a number") from None
    return out


def _default_classes(root: ET.Element) -> dict[str, tuple[ET.Element, str | None]]:
    """MJCF default class name → (its <default> element, its parent class)."""
    classes: dict[str, tuple[ET.Element, str | None]] = {}

    def collect(default: ET.Element, parent: str | None) -> None:
        name = default.get("class", "main")
        classes[name] = (default, parent)
        for child in default.findall("default"):
            collect(child, name)

    for default in root.findall("default"):
        collect(default, None)
    return classes


def mjcf_joint_armature(root: ET.Element) -> dict[str, float]:
    """Joint name → `armature` (rotor inertia added to M's diagonal by MuJoCo), through classes and childclass."""
    classes = _default_classes(root)

    def from_class(cls: str | None) -> float:
        while cls is not None and cls in classes:
            element, parent = classes[cls]
            joint = element.find("joint")
            if joint is not None and joint.get("armature"):
                return float(joint.get("armature"))
            cls = parent
        return 0.0

    out: dict[str, float] = {}

    def visit(body: ET.Element, childclass: str) -> None:
        for joint in body.findall("joint"):
            if joint.get("name"):
                value = joint.get("armature")
                out[joint.get("name")] = float(value) if value else from_class(joint.get("class", childclass))
        for child in body.findall("body"):
            visit(child, child.get("childclass", childclass))

    for worldbody in root.findall("worldbody"):
        visit(worldbody, "main")
    return out


def gears_by_actuator(gears: list[tuple[str | None, float]], drake_names: list[str]) -> dict[str, float] | None:
    """Drake's actuator name → MJCF gear, by name where every actuator is named, else by order."""
    if len(gears) != len(drake_names):
        return None
    if all(name for name, _ in gears) and {name for name, _ in gears} == set(drake_names):
        return dict(gears)
    return {drake: gear for drake, (_, gear) in zip(drake_names, gears, strict=True)}


def read_vetted(path: Path) -> str:
    """The file's text after the untrusted-file rules (and a check of every file it references)."""
    from underact import description

    if hasattr(description, "vet_references"):
        description.vet_references(path)
    if hasattr(description, "read_text"):
        return description.read_text(path)
    description.safe_parse(path)
    return path.read_text(encoding="utf-8", errors="replace").lstrip()


def urdf_transmissions(root: ET.Element) -> list[tuple[str, str, float | None]]:
    """(actuator name, joint name, effort limit) per actuator, by Drake's URDF rule: one per `<transmission>` of
    type `transmission_interface/SimpleTransmission` naming a moving joint, skipped when that joint's effort limit
    is 0; other types are ignored."""
    joints = {j.get("name"): j for j in root.findall("joint")}
    out = []
    for transmission in root.findall("transmission"):
        kind = transmission.findtext("type") or transmission.get("type") or ""
        joint, actuator = transmission.find("joint"), transmission.find("actuator")
        if kind.strip() not in ("SimpleTransmission", "transmission_interface/SimpleTransmission") or joint is None:
            continue
        if joints.get(joint.get("name")) is None or joints[joint.get("name")].get("type") == "fixed":
            continue
        limit = joints[joint.get("name")].find("limit")
        try:
            effort = float(limit.get("effort")) if limit is not None and limit.get("effort") else None
        except ValueError:
            effort = None
        if effort == 0.0:
            continue
        name = (actuator.get("name") if actuator is not None else None) or f"{joint.get('name')}_actuator"
        out.append((name, joint.get("name"), effort))
    return out


def strip_transmissions(root: ET.Element) -> None:
    """Removes every `<transmission>`: the engine gets its actuators from the actuation model instead."""
    for element in [e for e in root if e.tag == "transmission"]:
        root.remove(element)


#: Velocity-name suffixes of a multi-DoF joint's coordinates, per coordinate: Drake's first, then MuJoCo's (its URDF
#: reader turns a planar joint into three one-DoF joints `<name>_TX`, `_TY`, `_RZ`).
COORDINATE_SUFFIXES = {3: (("vx", "TX", "wx"), ("vy", "TY", "wy"), ("wz", "RZ"))}


def coordinate_name(joint: str, axis: int, dof: int, names) -> str | None:
    """The engine's name, among `names`, of coordinate `axis` of `joint` (`dof` coordinates); None if none."""
    if dof == 1 and axis == 0:
        return joint if joint in names else None
    suffixes = COORDINATE_SUFFIXES.get(dof, ())
    for suffix in suffixes[axis] if axis < len(suffixes) else ():
        if f"{joint}_{suffix}" in names:
            return f"{joint}_{suffix}"
    return None


def actuator_columns(actuators: list, velocity_names: list[str], dofs: dict[str, int] | None = None
                     ) -> tuple[np.ndarray, list[str]]:
    """B (nv, n) of the actuation model's actuators in an engine's velocity coordinates (a one-DoF joint's
    velocity is named after the joint on both engines; `dofs` gives each joint's count of coordinates), and the
    names of actuators acting on a coordinate the engine does not name (a floating base): their columns stay
    zero."""
    dofs = dofs or {}
    index = {name: i for i, name in enumerate(velocity_names)}
    B = np.zeros((len(velocity_names), len(actuators)))
    unmapped = []
    for c, actuator in enumerate(actuators):
        for (joint, axis), value in actuator.column.items():
            name = coordinate_name(joint, axis, dofs.get(joint, 1), index)
            if name is not None:
                B[index[name], c] += value
            elif value != 0.0:
                unmapped.append(actuator.name)
                break
    return B, unmapped


def effort_limits(actuators: list) -> np.ndarray:
    """|u| bounds of the model's actuators (inf where the file gives none or a non-positive one)."""
    return np.array([a.effort if a.effort is not None and a.effort > 0 else np.inf for a in actuators], dtype=float)


def actuation_lines(description) -> list[str]:
    """The description's warnings about its actuators (assumed ones, ones without authority, ones ignored), for
    `plant.warnings`: word for word, so a command that prints both prints each once."""
    return [w for w in description.warnings if "actuator" in w or "assumed actuated" in w]


def repair_inertias(root: ET.Element, label: str, strict: bool) -> list[str]:
    """Makes each `<inertia>` physically valid, the same way for both engines, and says so; `strict` refuses.

    Principal moments (numpy's `eigh`): negative ones are raised to 0, and a violated triangle inequality
    A + B ≥ C lowers C to A + B (the smallest change that makes the body possible); the six values are written
    back in the link's inertial frame. Non-numeric or non-finite inertias are left to the engines' refusal."""
    warnings = []
    for link in root.findall("link"):
        inertia = link.find("inertial/inertia")
        if inertia is None:
            continue
        try:
            ixx, iyy, izz, ixy, ixz, iyz = (float(inertia.get(k, "0")) for k in ("ixx", "iyy", "izz", "ixy", "ixz",
                                                                                 "iyz"))
        except ValueError:
            continue
        matrix = np.array([[ixx, ixy, ixz], [ixy, iyy, iyz], [ixz, iyz, izz]])
        if not np.isfinite(matrix).all():
            continue
        moments, axes = np.linalg.eigh(matrix)
        fixed = np.maximum(moments, 0.0)
        a, b, c = fixed  # eigh sorts ascending
        if a + b < c * (1.0 - 1e-12):
            fixed[2] = a + b
        if np.array_equal(fixed, moments):
            continue
        was = ", ".join(f"{x:.4g}" for x in moments)
        now = ", ".join(f"{x:.4g}" for x in fixed)
        if strict:
            raise UnderactError(f"{label}: link '{link.get('name')}': inertia (principal moments {was}) is not "
                                "physically valid (negative, or A + B < C); --strict refuses it (without --strict "
                                f"both engines get ({now}))")
        repaired = axes @ np.diag(fixed) @ axes.T
        for key, (i, j) in zip(("ixx", "iyy", "izz", "ixy", "ixz", "iyz"),
                               ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)), strict=True):
            inertia.set(key, repr(float(repaired[i, j])))
        warnings.append(f"link '{link.get('name')}': inertia repaired for both engines, principal moments ({was}) "
                        f"-> ({now}) (--strict refuses it)")
    return warnings


def drop_repeated(root: ET.Element) -> list[str]:
    """Removes a joint's or link's child element that repeats an identical earlier one (MuJoCo's URDF reader
    refuses any repeat; Drake reads the first), and says so. Repeats that differ are left to MuJoCo's refusal."""
    warnings = []
    for element in [*root.findall("joint"), *root.findall("link")]:
        seen: set[bytes] = set()
        for child in list(element):
            key = ET.tostring(child).strip()
            if key in seen:
                element.remove(child)
                warnings.append(f"{element.tag} '{element.get('name')}': a repeated identical <{child.tag}> "
                                "dropped for MuJoCo (its URDF reader refuses repeats)")
            seen.add(key)
    return warnings
