"""`underact classify`: fully actuated or underactuated, by how much, and which joints are passive, per file."""

from __future__ import annotations

import argparse
import json
import sys

from underact.description import ACTUATION_MODES, BASE_MODES, DescriptionError, parse_description
from underact.description.xml import MAX_BYTES, MAX_INCLUDE_DEPTH, MAX_INCLUDED_FILES

SEMANTICS = """\
semantics:
  dof        velocities: revolute, continuous, prismatic, hinge, slide 1; planar 3; ball 3; a floating base 6;
             fixed joints 0. A mimic joint is dependent, not a DoF.
  actuators  URDF: joints named by a <transmission> (child tags ending in 'joint', not passive_joint) or with
             a command_interface in <ros2_control>; a transmitted joint with <limit effort="0"> is passive (as
             Drake reads it). Neither block in the file: every independent joint is assumed actuated
             (actuation_source "assumed", with a warning).
             SDF: every 1-DoF non-fixed joint unless its <effort> limit is 0 (Drake's rule).
             MJCF: the <actuator> elements, ranked through MuJoCo's actuator moment arms (tendons, sites,
             slider-cranks); from the XML alone, with a warning, when MuJoCo refuses the file. Actuators
             with a body transmission (<adhesion>) act only through contact and are not counted (warned).
  equality   MJCF: a joint that an active <equality><joint joint1=.. joint2=..> couples to another is
             dependent, like a mimic joint (without joint2: locked); each such equality is warned with
             the dof change. Weld, connect, tendon and flex equalities change no count (warned).
  base       auto: URDF floats unless a joint attaches the root to a link named 'world' (and is not
             floating); MJCF floats when a top-level body has a free joint; SDF as Drake reads it. fixed /
             floating override that. A floating base adds 6 unactuated DoF; in auto mode the table also gives
             the verdict if the robot were bolted to the world ('if bolted').
  actuated   rank of the actuation over the independent DoF; degree = dof - actuated;
             class = fully-actuated iff degree == 0.

output: a table (stdout) with a progress bar (stderr) for many files, or with --json one object per file
  per line: {"path", "ok": true, "name", "format", "class", "base", "dof", "actuated", "degree",
  "unactuated_joints", "actuation_source", "warnings"} or {"path", "ok": false, "error"}.
exit status: 0 when every file was classified, 2 when any failed (the others are still reported).
""" + (
    f"files are read as untrusted XML (no entities, no DTDs, {MAX_BYTES // 1_000_000} MB cap, whitespace before\n"
    "<?xml accepted); every file an engine would open (MJCF includes and assets) must be a regular file (never\n"
    f"a pipe or a device), and includes are bounded ({MAX_INCLUDE_DEPTH} deep, {MAX_INCLUDED_FILES} files, "
    f"{MAX_BYTES // 1_000_000} MB in all);\nmeshes are never needed.\n"
)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "classify",
        help="classify the actuation of URDF, SDF and MJCF files",
        description="Says whether each robot description is fully actuated or underactuated, by how many "
        "degrees, and which joints are passive.",
        epilog=SEMANTICS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="URDF, SDF or MJCF files (format read from the root)")
    p.add_argument("--json", action="store_true", help="one JSON object per file per line instead of a table")
    p.add_argument("--base", choices=BASE_MODES, default="auto", help="base: as the file says (default), or forced")
    p.add_argument(
        "--actuation",
        choices=ACTUATION_MODES,
        default="auto",
        help="'auto' (default): the declared actuators, or every independent joint when the file declares none "
        "(warned); 'declared': only what the file declares; 'assumed': every independent joint actuated",
    )
    p.add_argument("--verbose", action="store_true", help="list each file's warnings under the table")
    p.set_defaults(func=run)


Record = tuple[dict[str, object], dict[str, object] | None]
"""A file's JSON-line record and, for a floating base in auto mode, the verdict if bolted to the world."""


def classify_one(path: str, base: str, actuation: str) -> Record:
    """The JSON-line record for `path` (the classification, or {"path", "ok": false, "error"}) and the
    bolted verdict (None unless the base floats in auto mode)."""
    try:
        desc = parse_description(path, base=base, actuation=actuation)
    except DescriptionError as exc:
        return {"path": path, "ok": False, "error": str(exc)}, None
    except RecursionError:
        return {"path": path, "ok": False, "error": f"{path}: elements nested too deeply to read"}, None
    return desc.to_json(), desc.bolted


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    records = []
    progress = tqdm(args.paths, desc="classify", unit="file", file=sys.stderr, leave=False, disable=len(args.paths) < 5)
    for path in progress:
        record, bolted = classify_one(path, args.base, args.actuation)
        if args.json:
            progress.clear()
            print(json.dumps(record), flush=True)
        records.append((record, bolted))
    progress.close()
    if not args.json:
        print(table(records, show_bolted=args.base == "auto"))
        if args.verbose:
            for record, _ in records:
                for warning in record.get("warnings", []):
                    print(f"{record['path']}: warning: {warning}")
    failed = sum(not record["ok"] for record, _ in records)
    if failed:
        sys.stderr.write(f"underact: error: {failed} of {len(records)} file(s) could not be classified\n")
        return 2
    return 0


def table(records: list[Record], show_bolted: bool) -> str:
    """A fixed-width table, one row per file; failures show their error in place of the verdict."""
    header = ["file", "class", "base", "dof", "actuated", "degree", "passive joints", "warnings"]
    if show_bolted:
        header.insert(6, "if bolted")
    rows = []
    for record, bolted in records:
        if not record["ok"]:
            rows.append([str(record["path"]), f"error: {record['error']}"])
            continue
        passive = record["unactuated_joints"]
        shown = ", ".join(passive[:4]) + (f", +{len(passive) - 4}" if len(passive) > 4 else "")
        row = [
            str(record["path"]),
            str(record["class"]),
            str(record["base"]),
            str(record["dof"]),
            str(record["actuated"]),
            str(record["degree"]),
            shown or "-",
            str(len(record["warnings"])),
        ]
        if show_bolted:
            row.insert(6, f"{bolted['class']} ({bolted['degree']})" if bolted else "-")
        rows.append(row)
    widths = [max([len(header[i])] + [len(r[i]) for r in rows if len(r) == len(header)]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    for row in rows:
        if len(row) == len(header):
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        else:
            lines.append(f"{row[0].ljust(widths[0])}  {row[1]}")
    return "\n".join(lines)
