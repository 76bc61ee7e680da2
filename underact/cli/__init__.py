"""The `underact` command line: one sub-command module per stage of the flow (see DESIGN.md).

Every sub-command module exposes `register(subparsers)`, which adds its parsers and sets `func`, a callable
taking the parsed arguments and returning the exit code. Errors a user can fix (`UnderactError`, bad files,
bad flags) print one line on stderr and exit with code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from underact.errors import UnderactError

# Order is the order in `underact --help`.
COMMAND_MODULES = (
    "underact.cli.demo",
    "underact.cli.core",
    "underact.cli.classify",
    "underact.cli.simulate",
    "underact.cli.train",
)


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line and exit 2 (argparse's default prints the usage block)."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        sys.stderr.write(f"underact: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="underact",
        description="Underactuated robotics and learning control: manipulator equations from Drake and MuJoCo, "
        "actuation analysis, swing-up and balance, Hebbian agents. `underact COMMAND --help` for each command.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UnderactError as exc:
        sys.stderr.write(f"underact: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("underact: interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
