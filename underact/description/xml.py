"""Reading robot description files as untrusted XML: no entities, no DTDs, a size cap, one-line errors.

`safe_parse` is the only way the description package opens a file. It uses defusedxml, so a billion-laughs
entity bomb or an external entity (``<!ENTITY x SYSTEM "file:///etc/passwd">``) is rejected before anything
is expanded or read, and it remembers the line each element started on so later errors can point at it
(`line_of`).
"""

from __future__ import annotations

import weakref
import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml
import defusedxml.ElementTree as DET

from underact.errors import UnderactError

_LINES: weakref.WeakKeyDictionary[ET.Element, int] = weakref.WeakKeyDictionary()


class DescriptionError(UnderactError):
    """A robot description file that cannot be read or does not describe a valid kinematic tree."""


class _LineRecorder(ET.TreeBuilder):
    """A tree builder that notes the line on which each element starts."""

    def __init__(self) -> None:
        super().__init__()
        self.expat = None

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        element = super().start(tag, attrs)
        _LINES[element] = self.expat.CurrentLineNumber
        return element


def line_of(element: ET.Element) -> int | None:
    """The line on which `element` started, for elements that came from `safe_parse` (else None)."""
    return _LINES.get(element)


def where(element: ET.Element) -> str:
    """' (line N)' for an element from `safe_parse`, '' when unknown; for appending to error messages."""
    line = line_of(element)
    return f" (line {line})" if line is not None else ""


def parse_bytes(data: bytes, label: str) -> ET.Element:
    """Parses `data` as untrusted XML; `label` names the source in errors. Raises DescriptionError."""
    if not data.strip():
        raise DescriptionError(f"{label}: file is empty")
    builder = _LineRecorder()
    parser = DET.DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    builder.expat = parser.parser
    try:
        parser.feed(data)
        return parser.close()
    except ET.ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(":")[0]
        raise DescriptionError(f"{label}: not well-formed XML at line {line}, column {column + 1} ({reason})") from None
    except defusedxml.DefusedXmlException:  # DTDForbidden comes first: entities can only live in a DTD
        raise DescriptionError(
            f"{label}: has a <!DOCTYPE> declaration; DTDs and entities are refused (entity expansion and "
            "external entities are unsafe)"
        ) from None
    except (ValueError, UnicodeError) as exc:
        raise DescriptionError(f"{label}: cannot be decoded as XML ({exc})") from None


def safe_parse(path: str | Path, max_bytes: int = 20_000_000) -> ET.Element:
    """Parses the XML file at `path` as untrusted input and returns its root element.

    Refuses (with a one-line `DescriptionError` naming the file and, where known, line and column): a missing
    path, a directory, a pipe or device, a file larger than `max_bytes`, an empty file, XML that is not well
    formed (truncated, not XML at all), any DTD, and any entity declaration (entity expansion, external
    entities). Nothing an entity points at is ever read.
    """
    path = Path(path)
    label = path.name or str(path)
    if not path.exists():
        raise DescriptionError(f"{path}: no such file")
    if path.is_dir():
        raise DescriptionError(f"{path}: is a directory; expected a .urdf, .sdf or .xml file")
    if not path.is_file():
        raise DescriptionError(f"{path}: is not a regular file (a pipe or a device); expected a description file")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DescriptionError(f"{label}: file is {size} bytes, larger than the {max_bytes}-byte limit")
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise DescriptionError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise DescriptionError(f"{label}: file is larger than the {max_bytes}-byte limit")
    return parse_bytes(data, label)
