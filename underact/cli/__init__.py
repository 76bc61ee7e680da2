"""The `underact` command line: one sub-command module per stage of the flow (see DESIGN.md).

Every sub-command module exposes `register(subparsers)`, which adds its parsers and sets `func`, a callable
taking the parsed arguments and returning the exit code. Errors a user can fix (`UnderactError`, bad files,
bad flags) print one line on stderr and exit with code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

from underact.errors import UnderactError, one_line

#: Flags whose value is a comma-separated vector: `--q -0.3,0.2` is a value, not a flag (argparse's default).
VECTOR_FLAGS = ("--q", "--v", "--x0", "--equilibrium")
_NUMBER_START = re.compile(r"-(\d|\.\d|inf|nan)", re.IGNORECASE)

# Order is the order in `underact --help`.
COMMAND_MODULES = (
    "underact.cli.demo",
    "underact.cli.core",
    "underact.cli.classify",
    "underact.cli.view",
    "underact.cli.simulate",
    "underact.cli.train",
)


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line and exit 2 (argparse's default prints the usage block). A missing
    argument also shows the command's usage line, which says what to give."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        if message.startswith("the following arguments are required"):
            sys.stderr.write(self.format_usage())
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


def join_vector_values(argv: list[str]) -> list[str]:
    """`--q -0.3,0.2` → `--q=-0.3,0.2` for the vector flags, so a leading negative value is not read as a flag."""
    out, i = [], 0
    while i < len(argv):
        arg = argv[i]
        if arg in VECTOR_FLAGS and i + 1 < len(argv) and _NUMBER_START.match(argv[i + 1]):
            out.append(f"{arg}={argv[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def _is_opengl_failure(exc: BaseException) -> bool:
    """PyOpenGL / MuJoCo's GL context failing to load its library (e.g. MUJOCO_GL=osmesa without libOSMesa)."""
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    return any(("OpenGL" in f or "mujoco/rendering" in f or "mujoco/gl_context" in f) for f in frames) or any(
        key in str(exc) for key in ("OSMesa", "MUJOCO_GL", "PYOPENGL_PLATFORM")
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:  # `underact` alone: what it can do
        sys.stderr.write(parser.format_help())
        return 2
    args = parser.parse_args(join_vector_values(argv))
    try:
        return int(args.func(args) or 0)
    except UnderactError as exc:
        sys.stderr.write(f"underact: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("underact: interrupted\n")
        return 130
    except MemoryError:
        sys.stderr.write("underact: error: out of memory; ask for less (fewer states, samples or episodes)\n")
        return 2
    except OSError as exc:  # a full disk, a read-only folder: the file and the reason
        where = f" {exc.filename}" if exc.filename else ""
        sys.stderr.write(f"underact: error: cannot access{where}: {exc.strerror or one_line(exc)}\n")
        return 2
    except Exception as exc:  # a defect of ours: still one line, and exit 1 (not a user error)
        if _is_opengl_failure(exc):
            backend = os.environ.get("MUJOCO_GL", "the default")
            sys.stderr.write(
                f"underact: error: MuJoCo's OpenGL backend ({backend}) could not start: {one_line(exc)}; install "
                "its library (Debian: libosmesa6 for MUJOCO_GL=osmesa) or unset MUJOCO_GL\n"
            )
            return 2
        sys.stderr.write(
            f"underact: internal error: {type(exc).__name__}: {one_line(exc)} (please report this, with the command)\n"
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
