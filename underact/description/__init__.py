"""Robot description files (URDF, SDF, MJCF) read as untrusted XML into what actuation analysis needs.

`parse_description(path)` returns a `Description`: kinematic tree, base (fixed or floating), actuation map,
and the verdict (dof, actuated rank, degree of underactuation, class), with warnings for anything it had to
ignore or assume. It never needs a physics engine to accept the file; MuJoCo is asked for MJCF moment arms.

Engine loaders use the same untrusted-file rules: `read_text(path)` returns the checked text of a file for an
engine's from-string loader, and `vet_references(path)` checks every file the description makes an engine
open (includes, meshes, model URIs) before the engine opens any of them.
"""

from __future__ import annotations

from pathlib import Path

from underact.description.actuation import MODES as ACTUATION_MODES
from underact.description.actuation import Actuator, actuators, check_mode
from underact.description.model import BASE, Description, Joint, actuation_rank
from underact.description.references import vet_references
from underact.description.xml import DescriptionError, line_of, read_text, safe_parse

BASE_MODES = ("auto", "fixed", "floating")

__all__ = [
    "ACTUATION_MODES",
    "Actuator",
    "BASE",
    "BASE_MODES",
    "Description",
    "DescriptionError",
    "Joint",
    "actuation_rank",
    "actuators",
    "line_of",
    "parse_description",
    "read_text",
    "safe_parse",
    "vet_references",
]


def parse_description(path: str | Path, base: str = "auto", actuation: str = "auto") -> Description:
    """Reads a URDF, SDF or MJCF file (recognised by its root element, not its extension).

    `base`: "auto" (as the file says), "fixed" (bolted to the world) or "floating" (6 unactuated DoF added).
    `actuation`: "auto" (the declared actuators, or every independent joint when the file declares none, with
    a warning), "declared" or "assumed" (every independent joint actuated); see `underact.description.actuation`.
    Raises `DescriptionError` (one line, naming the file and where possible the element and line) for files
    that are not a readable kinematic tree.
    """
    if base not in BASE_MODES:
        raise ValueError(f"base must be one of {BASE_MODES}, got {base!r}")
    actuation = check_mode(actuation)
    path = Path(path)
    root = safe_parse(path)
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag == "robot":
        from underact.description.urdf import read_urdf

        return read_urdf(root, path, base, actuation)
    if tag == "sdf":
        from underact.description.sdf import read_sdf

        return read_sdf(root, path, base, actuation)
    if tag == "mujoco":
        from underact.description.mjcf import read_mjcf

        return read_mjcf(root, path, base, actuation)
    raise DescriptionError(
        f"{path.name}: root element is <{tag}>; expected <robot> (URDF), <sdf> (SDF) or <mujoco> (MJCF)"
    )
