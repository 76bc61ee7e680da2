"""Resolving the file names that descriptions use for meshes: relative paths, file://, package://, model://."""

from __future__ import annotations

import os
from pathlib import Path

_REMOTE = ("http://", "https://", "ftp://")


def resolve(uri: str, base_dir: Path) -> Path | None:
    """The regular file `uri` names, seen from a description in `base_dir`; None when it cannot be found (or
    names a directory, a pipe or a device).

    `package://pkg/rest` and `model://pkg/rest` are looked up as ROS and Gazebo do without a package index: in
    ROS_PACKAGE_PATH / GAZEBO_MODEL_PATH folders, then in the description's folder and its ancestors (a folder
    named `pkg`, or containing one). Remote URIs are never fetched. Nothing is opened, only `stat`ed.
    """
    found = locate(uri, base_dir)
    return found if found is not None and found.is_file() else None


def is_remote(uri: str) -> bool:
    """Whether `uri` names a remote resource (http, https, ftp), which is never fetched."""
    return uri.strip().startswith(_REMOTE)


def locate(uri: str, base_dir: Path) -> Path | None:
    """The existing path `uri` names, of any kind (file, folder, pipe, device), as `resolve` looks it up."""
    uri = uri.strip()
    if not uri or is_remote(uri):
        return None
    if uri.startswith("file://"):
        candidate = Path(uri[len("file://") :])
        return candidate if candidate.exists() else None
    for scheme, env in (("package://", "ROS_PACKAGE_PATH"), ("model://", "GAZEBO_MODEL_PATH")):
        if uri.startswith(scheme):
            package, _, rest = uri[len(scheme) :].partition("/")
            return _find_in_package(package, rest, base_dir, os.environ.get(env, ""))
    candidate = Path(uri)
    if not candidate.is_absolute():
        candidate = base_dir / candidate
    return candidate if candidate.exists() else None


def _find_in_package(package: str, rest: str, base_dir: Path, search_path: str) -> Path | None:
    roots = [Path(p) for p in search_path.split(os.pathsep) if p]
    roots += [base_dir, *list(base_dir.resolve().parents)[:6]]
    for root in roots:
        for folder in (root, root / package):
            if folder.name == package and (folder / rest).exists():
                return folder / rest
    return None
