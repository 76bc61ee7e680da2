"""URDF text an engine's importer accepts: unloadable meshes dropped, resolvable ones made absolute.

MuJoCo's URDF importer refuses a whole file when one mesh cannot be opened (a `package://` URI, a missing
file, a Collada `.dae`) and when a joint has no name, and blocks on a mesh that is a pipe. Classification
needs no geometry, and the inertia of each link stays in `<inertial>`, so the `<visual>`/`<collision>`
elements holding such meshes (and any mesh that is not a regular file within `MAX_ASSET_BYTES`) are removed,
unnamed joints get the names `parse_description` reports (`unnamed_joint_<k>`), and a nameless robot is
named after its file. `removed_geometry` lists what `engine_urdf` drops, for the caller's warnings.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from underact.description import uris
from underact.description.model import Description
from underact.description.xml import DescriptionError, check_reference, safe_parse

MUJOCO_MESH_SUFFIXES = (".stl", ".obj", ".msh")


def _source(desc_or_path: Description | str | Path) -> tuple[ET.Element, Path]:
    path = Path(desc_or_path.path if isinstance(desc_or_path, Description) else desc_or_path)
    root = safe_parse(path)
    if root.tag != "robot":
        raise DescriptionError(f"{path.name}: root element is <{root.tag}>; expected a URDF <robot>")
    return root, path


def _unloadable(root: ET.Element, base_dir: Path) -> list[tuple[ET.Element, ET.Element, str]]:
    """(owner link, visual-or-collision element, mesh file name) for each mesh MuJoCo cannot load."""
    found = []
    for link in root.findall("link"):
        for element in link:
            mesh = element.find("geometry/mesh") if element.tag in ("visual", "collision") else None
            if mesh is None:
                continue
            filename = mesh.get("filename", "")
            resolved = _loadable(filename, base_dir)
            if resolved is None:
                found.append((link, element, filename))
            else:
                mesh.set("filename", str(resolved.resolve()))
    return found


def _loadable(filename: str, base_dir: Path) -> Path | None:
    """The mesh file an engine can load for `filename`: found, a regular file within the size cap (`stat`ed,
    never opened) and of a format MuJoCo reads; else None."""
    located = uris.locate(filename, base_dir)
    if located is None or located.suffix.lower() not in MUJOCO_MESH_SUFFIXES:
        return None
    try:
        check_reference(located, filename)
    except DescriptionError:  # a pipe, a device, a folder or an oversized file: dropped like a missing one
        return None
    return located


def removed_geometry(desc_or_path: Description | str | Path) -> list[str]:
    """Mesh file names whose `<visual>`/`<collision>` elements `engine_urdf` removes."""
    root, path = _source(desc_or_path)
    return [filename for _, _, filename in _unloadable(root, path.parent)]


def engine_urdf(desc_or_path: Description | str | Path) -> str:
    """The file's URDF text with unloadable meshes removed, mesh paths absolute and every joint named."""
    root, path = _source(desc_or_path)
    for link, element, _ in _unloadable(root, path.parent):
        link.remove(element)
    for index, joint in enumerate(root.findall("joint"), start=1):
        if not joint.get("name"):
            joint.set("name", f"unnamed_joint_{index}")
    if not root.get("name"):
        root.set("name", path.stem)
    return ET.tostring(root, encoding="unicode")
