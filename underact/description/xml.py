"""Reading robot description files as untrusted input: regular files only, size caps, no entities, no DTDs.

`read_bytes` is the only way the description package opens a file: it `stat`s the path first and opens only
a regular file within the size cap (a FIFO or a device is never opened). `safe_parse` parses what it reads
with defusedxml, so a billion-laughs entity bomb or an external entity (``<!ENTITY x SYSTEM
"file:///etc/passwd">``) is rejected before anything is expanded or read, and remembers the line each element
started on so later errors can point at it (`line_of`). `read_text` hands an engine the same checked text.
`IncludeBudget` bounds what a chain of `<include>`s may read, `check_reference` vets a file that an engine
will open (a mesh, a texture) without opening it.
"""

from __future__ import annotations

import os
import re
import stat
import weakref
import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml
import defusedxml.ElementTree as DET

from underact.errors import UnderactError

_LINES: weakref.WeakKeyDictionary[ET.Element, int] = weakref.WeakKeyDictionary()

MAX_BYTES = 20_000_000
#: Deepest element nesting accepted (a 500-body MJCF chain; Python's tree code recurses once per level).
MAX_DEPTH = 500
"""Size cap of one XML file, and of all the XML one description's `<include>`s read together."""
MAX_ASSET_BYTES = 200_000_000
"""Size cap of a mesh, texture or height field an engine would open."""
MAX_INCLUDE_DEPTH = 8
MAX_INCLUDED_FILES = 1000
"""How many files one description's `<include>` expansion may read, counting a file each time it is included."""

_DECLARATION = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


class DescriptionError(UnderactError):
    """A robot description file that cannot be read or does not describe a valid kinematic tree."""


class _LineRecorder(ET.TreeBuilder):
    """A tree builder that notes the line on which each element starts (`offset`: lines stripped before)."""

    def __init__(self, offset: int, label: str) -> None:
        super().__init__()
        self.expat = None
        self.offset = offset
        self.label = label
        self.depth = 0

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        self.depth += 1
        if self.depth > MAX_DEPTH:  # every reader and writer of the tree recurses per level
            line = self.expat.CurrentLineNumber + self.offset
            raise DescriptionError(
                f"{self.label}: elements nest more than {MAX_DEPTH} deep (line {line}); refused"
            )
        element = super().start(tag, attrs)
        _LINES[element] = self.expat.CurrentLineNumber + self.offset
        return element

    def end(self, tag: str) -> ET.Element:
        self.depth -= 1
        return super().end(tag)


def line_of(element: ET.Element) -> int | None:
    """The line on which `element` started, for elements that came from `safe_parse` (else None)."""
    return _LINES.get(element)


def where(element: ET.Element) -> str:
    """' (line N)' for an element from `safe_parse`, '' when unknown; for appending to error messages."""
    line = line_of(element)
    return f" (line {line})" if line is not None else ""


def _strip_before_declaration(data: bytes) -> tuple[bytes, int]:
    """`data` without the whitespace before an `<?xml ...?>` declaration (expat refuses it, Drake accepts it),
    and the number of lines removed."""
    stripped = data.lstrip()
    if len(stripped) == len(data) or not stripped.startswith(b"<?xml"):
        return data, 0
    return stripped, data[: len(data) - len(stripped)].count(b"\n")


def parse_bytes(data: bytes, label: str) -> ET.Element:
    """Parses `data` as untrusted XML; `label` names the source in errors. Raises DescriptionError."""
    if not data.strip():
        raise DescriptionError(f"{label}: file is empty")
    data, offset = _strip_before_declaration(data)
    builder = _LineRecorder(offset, label)
    parser = DET.DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    builder.expat = parser.parser
    try:
        parser.feed(data)
        return parser.close()
    except ET.ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(":")[0]
        raise DescriptionError(
            f"{label}: not well-formed XML at line {line + offset}, column {column + 1} ({reason})"
        ) from None
    except DescriptionError:  # too deep (`_LineRecorder`): already one line, and a ValueError
        raise
    except defusedxml.DefusedXmlException:  # DTDForbidden comes first: entities can only live in a DTD
        raise DescriptionError(
            f"{label}: has a <!DOCTYPE> declaration; DTDs and entities are refused (entity expansion and "
            "external entities are unsafe)"
        ) from None
    except (ValueError, UnicodeError) as exc:
        raise DescriptionError(f"{label}: cannot be decoded as XML ({exc})") from None


def _stat_regular(path: Path, referrer: str | None, max_bytes: int) -> os.stat_result:
    """`path`'s stat when it is a regular file of at most `max_bytes` (symlinks followed); else DescriptionError.

    `referrer` ("robot.xml: <include file='x.xml'>") prefixes errors about a referenced file; None for a file
    named directly, whose errors start with its own path."""
    head = f"{referrer} -> {path}" if referrer else str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise DescriptionError(f"{head}: no such file") from None
    except OSError as exc:
        raise DescriptionError(f"{head}: cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise DescriptionError(f"{head}: is a directory; expected a .urdf, .sdf or .xml file")
    if not stat.S_ISREG(info.st_mode):
        raise DescriptionError(f"{head}: is not a regular file (a pipe or a device); refused, it could block")
    if info.st_size > max_bytes:
        label = head if referrer else (path.name or str(path))
        raise DescriptionError(f"{label}: file is {info.st_size} bytes, larger than the {max_bytes}-byte limit")
    return info


def check_reference(path: Path, referrer: str, max_bytes: int = MAX_ASSET_BYTES) -> None:
    """Refuses (DescriptionError naming `referrer` and `path`) a referenced file an engine must not open: a
    pipe, a device, a directory, or one over `max_bytes`. Never opens it."""
    _stat_regular(path, referrer, max_bytes)


def read_bytes(path: str | Path, max_bytes: int = MAX_BYTES, referrer: str | None = None) -> bytes:
    """The contents of `path`, a regular file of at most `max_bytes`; stat'ed before it is opened, so a pipe
    or a device is refused without being opened. `referrer` names who points at `path` in errors."""
    path = Path(path)
    _stat_regular(path, referrer, max_bytes)
    head = f"{referrer} -> {path}" if referrer else str(path)
    try:
        # O_NONBLOCK: should the path turn into a pipe after the stat, opening it still cannot block
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise DescriptionError(f"{head}: is not a regular file (a pipe or a device); refused, it could block")
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise DescriptionError(f"{head}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise DescriptionError(f"{head}: file is larger than the {max_bytes}-byte limit")
    return data


def safe_parse(path: str | Path, max_bytes: int = MAX_BYTES) -> ET.Element:
    """Parses the XML file at `path` as untrusted input and returns its root element.

    Refuses (with a one-line `DescriptionError` naming the file and, where known, line and column): a missing
    path, a directory, a pipe or device (never opened), a file larger than `max_bytes`, an empty file, XML that
    is not well formed (truncated, not XML at all), any DTD, and any entity declaration (entity expansion,
    external entities). Nothing an entity points at is ever read. Whitespace before `<?xml ...?>` is accepted.
    """
    path = Path(path)
    return parse_bytes(read_bytes(path, max_bytes), path.name or str(path))


def read_text(path: str | Path, max_bytes: int = MAX_BYTES) -> str:
    """The text of the XML file at `path` after every check `safe_parse` makes, for an engine's from-string
    loader: whitespace before the `<?xml ...?>` declaration removed, a declared non-UTF-8 encoding decoded
    and the declaration changed to say UTF-8 (engines encode the string they are given as UTF-8)."""
    path = Path(path)
    label = path.name or str(path)
    data = read_bytes(path, max_bytes)
    parse_bytes(data, label)
    data, _ = _strip_before_declaration(data)
    declared = _DECLARATION.match(data)
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        text = data.decode("utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding)
    except (LookupError, UnicodeError) as exc:
        raise DescriptionError(f"{label}: cannot be decoded as {encoding} ({exc})") from None
    if declared:
        start, end = declared.span(1)
        text = text[:start] + "UTF-8" + text[end:]
    return text


class IncludeBudget:
    """What one description's `<include>` expansion may read: `MAX_INCLUDE_DEPTH` levels, `MAX_INCLUDED_FILES`
    files (a file counts each time it is included, so a fan-out of includes is refused before it grows
    exponentially) and `MAX_BYTES` of XML in all. `parse` is the only way an included file is read."""

    def __init__(self, top: Path) -> None:
        self.top = top.name or str(top)
        self.files = 0
        self.bytes = 0

    def parse(self, target: Path, referrer: str, depth: int) -> ET.Element:
        """Parses `target`, included from `referrer` (one line naming the element) at nesting `depth` (1 for
        the top file's own includes), as untrusted XML; DescriptionError when over budget."""
        if depth > MAX_INCLUDE_DEPTH:
            raise DescriptionError(
                f"{referrer}: <include> nested more than {MAX_INCLUDE_DEPTH} deep (do two files include each other?)"
            )
        self.files += 1
        if self.files > MAX_INCLUDED_FILES:
            raise DescriptionError(
                f"{referrer}: the includes of {self.top} reach more than {MAX_INCLUDED_FILES} files "
                "(an include fan-out?); refused"
            )
        size = _stat_regular(target, referrer, MAX_BYTES).st_size
        if self.bytes + size > MAX_BYTES:
            raise DescriptionError(
                f"{referrer}: the includes of {self.top} add up to more than {MAX_BYTES} bytes of XML; refused"
            )
        data = read_bytes(target, MAX_BYTES - self.bytes, referrer)
        self.bytes += len(data)
        return parse_bytes(data, f"{target.name} (included by {self.top})")
