"""URDF → MuJoCo, the robot Drake reads: actuators from `<transmission>`, the same base, inertias MuJoCo accepts.

MuJoCo's URDF importer ignores `<transmission>` and `ros2_control`, refuses files whose meshes it cannot open, needs
`world` declared, and checks inertias more strictly than Drake. We read the file ourselves (untrusted XML,
`underact.description`), hand MuJoCo the tree `underact.plants.files` prepares (no geometry, `world` declared,
the base mode applied), keep static bodies, add the actuation model's actuators (`underact.description.actuation`:
a joint transmission per one-joint actuator, a fixed tendon per coupled one) and a free joint named after the root
link when the base floats, as Drake does. Invalid inertias are repaired before either engine sees the file
(`underact.plants.files.repair_inertias`), the same way for both. Where MuJoCo still needs a changed model, the
smallest change is made and reported in `plant.warnings` (a massless link that moves, rounding left by the repair);
a massless floating base is refused, on both engines.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from underact.description import parse_description
from underact.description.sanitize import engine_urdf
from underact.engines.mujoco import mujoco, spec_string
from underact.errors import UnderactError
from underact.plants.files import (
    MIN_INERTIA,
    MIN_MASS,
    drop_repeated,
    massless_with_inertia,
    repair_inertias,
    strip_geometry,
    strip_transmissions,
    urdf_with_base,
)
from underact.plants.mujoco import MujocoPlant, add_actuators


def urdf_spec(
    path: str | Path, base: str = "auto", actuation: str = "auto", strict: bool = False
) -> tuple[mujoco.MjSpec, list[str]]:
    """An `MjSpec` of the URDF as Drake reads it, with the actuation model's actuators (`actuation`: auto,
    declared or assumed), plus what had to be changed, as warnings; `strict` refuses an invalid inertia."""
    path = Path(path)
    desc = parse_description(path, base="fixed" if base == "fixed" else "auto", actuation=actuation)
    root, floating_root = urdf_with_base(engine_urdf(desc), path.name, base)
    warnings = massless_with_inertia(root, MIN_MASS)
    warnings += repair_inertias(root, path.name, strict)
    strip_geometry(root)
    warnings += drop_repeated(root)
    strip_transmissions(root)
    for ext in root.findall("mujoco"):
        root.remove(ext)
    ET.SubElement(ET.SubElement(root, "mujoco"), "compiler", fusestatic="false", discardvisual="true",
                  inertiafromgeom="false")
    spec = spec_string(ET.tostring(root, encoding="unicode"), str(path), "URDF")
    if floating_root is not None:
        body = spec.body(floating_root)
        _refuse_massless(body, path.name)
        body.add_freejoint(name=floating_root)
    _fix_inertias(spec, urdf_inertials(root), warnings)
    add_actuators(spec, desc.actuators, warnings, {j.name: j.dof for j in desc.joints})
    return spec, warnings


def _welded_group(body: mujoco.MjsBody) -> list[mujoco.MjsBody]:
    """The body and every descendant reached without crossing a joint."""
    group, stack = [], [body]
    while stack:
        b = stack.pop()
        group.append(b)
        stack.extend(child for child in b.bodies if not child.joints)
    return group


def _refuse_massless(body: mujoco.MjsBody, label: str) -> None:
    if not sum(max(b.mass, 0.0) for b in _welded_group(body)) > 0.0:
        raise UnderactError(
            f"{label}: floating base link '{body.name}' has no mass (nor has anything welded to it), so it has no "
            "dynamics; bolt it to the world with --base fixed (load(..., base='fixed'))"
        )


def _floats(text: str | None, n: int) -> np.ndarray:
    values = np.array([float(x) for x in (text or "").split()] or [0.0] * n, dtype=np.float64)
    if values.shape != (n,):
        raise ValueError(f"expected {n} numbers, got {text!r}")
    return values


def _rpy(rpy: np.ndarray) -> np.ndarray:
    """URDF's fixed-axis roll-pitch-yaw: R = Rz(yaw) Ry(pitch) Rx(roll)."""
    (cr, cp, cy), (sr, sp, sy) = np.cos(rpy), np.sin(rpy)
    return np.array(
        [
            [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
            [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
            [-sp, cp * sr, cp * cr],
        ]
    )


def urdf_inertials(root: ET.Element) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Link name → (centre of mass in the link frame, inertia about it in the link frame), in double precision
    from the file (MuJoCo's importer loses ~1e-7 on rotated inertias)."""
    out = {}
    for link in root.findall("link"):
        inertia = link.find("inertial/inertia")
        if inertia is None:
            continue
        origin = link.find("inertial/origin")
        try:
            xyz = _floats(origin.get("xyz") if origin is not None else None, 3)
            R = _rpy(_floats(origin.get("rpy") if origin is not None else None, 3))
            keys = ("ixx", "iyy", "izz", "ixy", "ixz", "iyz")
            ixx, iyy, izz, ixy, ixz, iyz = (float(inertia.get(k, "0")) for k in keys)
        except ValueError:
            continue
        matrix = np.array([[ixx, ixy, ixz], [ixy, iyy, iyz], [ixz, iyz, izz]])
        out[link.get("name")] = (xyz, R @ matrix @ R.T)
    return out


def _inertia_matrix(body: mujoco.MjsBody) -> np.ndarray:
    full = np.asarray(body.fullinertia, dtype=np.float64)
    if np.isnan(full[0]):
        return np.diag(np.asarray(body.inertia, dtype=np.float64))
    ixx, iyy, izz, ixy, ixz, iyz = full
    return np.array([[ixx, ixy, ixz], [ixy, iyy, iyz], [ixz, iyz, izz]])


def _fix_inertias(spec: mujoco.MjSpec, inertials: dict, warnings: list[str]) -> None:
    """Makes each body's inertia one MuJoCo compiles, changing it as little as possible, and says so.

    Every full inertia is diagonalised here (numpy's `eigh`, exact to rounding; MuJoCo's own iteration is not).
    Principal moments: negative ones (rounding: −1e-22 where Drake warns) are raised to 0, a violated triangle
    inequality A + B ≥ C lowers C to A + B, and a body with a joint of its own gets at least MIN_MASS and
    MIN_INERTIA, the least MuJoCo accepts on a moving body."""
    floored = []
    for body in spec.bodies:
        if body.name == "world":
            continue
        exact = inertials.get(body.name)
        inertia = exact[1] if exact is not None else _inertia_matrix(body)
        if exact is not None:
            body.ipos = exact[0]
        if not np.isfinite(inertia).all():
            raise UnderactError(f"link '{body.name}': inertia is not finite")
        moments, axes = np.linalg.eigh(inertia)
        fixed = np.maximum(moments, 0.0)
        order = np.argsort(fixed)
        a, b, c = fixed[order]
        if a + b < c:
            fixed[order[2]] = a + b
        if body.joints and (body.mass < MIN_MASS or fixed.min() < MIN_INERTIA):
            body.mass = max(body.mass, MIN_MASS)
            fixed = np.maximum(fixed, MIN_INERTIA)
            floored.append(body.name)
        elif np.abs(fixed - moments).max() > 1e-9 * np.abs(moments).max():  # rounding left by the repair: silent
            warnings.append(
                f"link '{body.name}': principal moments of inertia ({', '.join(f'{x:.3g}' for x in moments)}) "
                f"changed to ({', '.join(f'{x:.3g}' for x in fixed)}) for MuJoCo "
                f"(largest change {np.abs(fixed - moments).max():.1e})"
            )
        if exact is None and np.isnan(body.fullinertia[0]) and np.array_equal(fixed, np.asarray(body.inertia)):
            continue
        if np.linalg.det(axes) < 0:
            axes[:, 0] = -axes[:, 0]
        quat = np.empty(4)
        mujoco.mju_mat2Quat(quat, axes.reshape(-1))
        body.explicitinertial = True
        body.inertia, body.iquat = fixed, quat
        body.fullinertia = [np.nan, 0, 0, 0, 0, 0]
    if floored:
        warnings.append(
            f"{len(floored)} moving link(s) without mass or inertia given the least MuJoCo accepts ({MIN_MASS:g} kg, "
            f"{MIN_INERTIA:g} kg·m²): {', '.join(floored[:6])}{', …' if len(floored) > 6 else ''}"
        )


def load_urdf(path: str | Path, base: str = "auto", actuation: str = "auto", strict: bool = False) -> MujocoPlant:
    spec, warnings = urdf_spec(path, base, actuation, strict)
    plant = MujocoPlant.from_spec(spec, Path(path).stem)
    plant.warnings = warnings
    return plant
