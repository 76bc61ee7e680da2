"""Every file a robot description makes an engine open, vetted before Drake or MuJoCo opens it.

`vet_references(path)` walks the description and everything it reaches: MJCF `<include file>` and asset
`<model file>` (followed), MJCF asset files (`file`, `fileright`, ... of meshes, textures, height fields,
skins; looked up in `meshdir`/`texturedir`/`assetdir` and the model's folder), URDF `<mesh filename>`, and
SDF `<uri>`s (meshes, and `<include>`d models, followed: a folder through its `model.config`). Included XML
is read within `IncludeBudget` (depth, file count, total bytes) and parsed as untrusted XML; every other file
must be a regular file within `MAX_ASSET_BYTES`, checked with `stat` and never opened. A pipe, a device, a
folder where a file belongs, an oversized file, or includes too deep or too many raise `DescriptionError`
naming the referencing file and the reference; a missing file or a remote URI is a warning (the engine reports
those itself, without blocking).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from underact.description import uris
from underact.description.xml import IncludeBudget, check_reference, safe_parse


def vet_references(path: str | Path) -> list[str]:
    """Vets `path` (URDF, SDF or MJCF) and every file it references, as described in the module docstring.

    Returns warnings for references that cannot be found; raises `DescriptionError` (one line) for anything an
    engine must not open."""
    path = Path(path)
    return vet_parsed(safe_parse(path), path)


def vet_parsed(root: ET.Element, path: Path) -> list[str]:
    """`vet_references` for a description whose top file is already parsed (`root`)."""
    walker = _Walker(path)
    walker.visit(root, path, 0)
    walker.check_mjcf_assets()
    return walker.warnings


def mjcf_include_candidates(name: str, including: Path, main: Path) -> list[Path]:
    """Where MuJoCo looks for `<include file=name>` in file `including` of model `main`: the including file's
    folder, then the main file's."""
    candidates = [including.parent / name, main.parent / name]
    return list(dict.fromkeys(candidates))


class _Walker:
    def __init__(self, main: Path) -> None:
        self.main = main
        self.budget = IncludeBudget(main)
        self.warnings: list[str] = []
        self.asset_dirs: set[str] = set()  # values of meshdir, texturedir and assetdir anywhere in the model
        self.mjcf_assets: list[tuple[str, Path, str]] = []  # (referrer, file that names it, file name)

    def visit(self, root: ET.Element, path: Path, depth: int) -> None:
        tag = root.tag if isinstance(root.tag, str) else ""
        if tag == "mujoco":
            self._mjcf(root, path, depth)
        elif tag == "sdf":
            self._sdf(root, path, depth)
        elif tag == "robot":
            self._urdf(root, path)

    def _follow(self, target: Path, referrer: str, depth: int) -> None:
        self.visit(self.budget.parse(target, referrer, depth + 1), target, depth + 1)

    def _mjcf(self, root: ET.Element, path: Path, depth: int) -> None:
        for compiler in root.iter("compiler"):
            self.asset_dirs.update(compiler.get(a) for a in ("meshdir", "texturedir", "assetdir") if compiler.get(a))
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            for attribute, value in element.attrib.items():
                if not attribute.startswith("file") or not value:
                    continue
                referrer = f"{path.name}: <{element.tag} {attribute}='{value}'>"
                if element.tag == "include" or (element.tag == "model" and attribute == "file"):
                    self._mjcf_include(value, path, referrer, depth)
                else:
                    self.mjcf_assets.append((referrer, path, value))

    def _mjcf_include(self, name: str, path: Path, referrer: str, depth: int) -> None:
        found = [c for c in mjcf_include_candidates(name, path, self.main) if c.exists()]
        if not found:
            self.warnings.append(f"{referrer}: not found")
            return
        for candidate in found[1:]:
            check_reference(candidate, referrer)
        self._follow(found[0], referrer, depth)

    def check_mjcf_assets(self) -> None:
        """Checks each MJCF asset file wherever MuJoCo could look for it: in the folders `meshdir`, `texturedir`
        and `assetdir` name (checked for every asset: a superset of where MuJoCo looks), the main model's
        folder, and the folder of the file that names it."""
        for referrer, source, name in self.mjcf_assets:
            bases = dict.fromkeys((self.main.parent, source.parent))
            folders = [*sorted(self.asset_dirs), ""]
            found = [c for c in dict.fromkeys(b / f / name for b in bases for f in folders) if c.exists()]
            if not found:
                self.warnings.append(f"{referrer}: not found")
            for candidate in found:
                check_reference(candidate, referrer)

    def _urdf(self, root: ET.Element, path: Path) -> None:
        for mesh in root.iter("mesh"):
            name = mesh.get("filename", "")
            self._uri_file(name, path, f"{path.name}: <mesh filename='{name}'>")

    def _sdf(self, root: ET.Element, path: Path, depth: int) -> None:
        included = {id(uri) for include in root.iter("include") for uri in include.findall("uri")}
        for uri in root.iter("uri"):
            text = (uri.text or "").strip()
            if not text:
                continue
            referrer = f"{path.name}: <uri>{text}</uri>"
            if id(uri) in included:
                self._sdf_include(text, path, referrer, depth)
            else:
                self._uri_file(text, path, referrer)

    def _sdf_include(self, uri: str, path: Path, referrer: str, depth: int) -> None:
        target = self._locate(uri, path, referrer)
        if target is None:
            return
        if not target.is_dir():
            self._follow(target, referrer, depth)
            return
        config = target / "model.config"
        if not config.exists():
            if (target / "model.sdf").exists():
                self._follow(target / "model.sdf", referrer, depth)
            else:
                self.warnings.append(f"{referrer}: folder {target} has no model.config or model.sdf")
            return
        settings = self.budget.parse(config, referrer, depth + 1)
        names = [(e.text or "").strip() for e in settings.iter("sdf") if (e.text or "").strip()] or ["model.sdf"]
        for name in names:
            if (target / name).exists():
                self._follow(target / name, f"{referrer} -> {config.name}", depth + 1)
            else:
                self.warnings.append(f"{referrer} -> {config.name}: '{name}' not found")

    def _uri_file(self, uri: str, path: Path, referrer: str) -> None:
        target = self._locate(uri, path, referrer)
        if target is not None:
            check_reference(target, referrer)

    def _locate(self, uri: str, path: Path, referrer: str) -> Path | None:
        if uris.is_remote(uri):
            self.warnings.append(f"{referrer}: remote, never fetched")
            return None
        target = uris.locate(uri, path.parent)
        if target is None:
            self.warnings.append(f"{referrer}: not found")
        return target
