"""The form of every command-line value, checked by argparse (`type=`) before any work is done.

Each type takes the text a user gave and returns the value, or raises `argparse.ArgumentTypeError` with a message
that says what was expected and what was given; argparse prints it as one line, `underact: error: argument
--flag: MESSAGE`, and the CLI exits 2. Checks that involve more than one value (a vector's length for a model,
--out with --resume) stay in the commands.
"""

from __future__ import annotations

import json
import math
from argparse import ArgumentTypeError
from collections.abc import Callable
from pathlib import Path

from underact.files import output_problem


def vector(text: str) -> tuple[float, ...]:
    """'0.3,-0.2' → (0.3, -0.2): comma-separated finite numbers ('' is the empty vector; its length is the
    command's to check)."""
    try:
        values = tuple(float(x) for x in text.split(",")) if text.strip() else ()
    except ValueError:
        raise ArgumentTypeError(f"must be comma-separated numbers, e.g. 0.3,-0.2; got {text!r}") from None
    if not all(math.isfinite(x) for x in values):
        raise ArgumentTypeError(f"values must be finite; got {text!r}")
    return values


def count(high: int | None = None) -> Callable[[str], int]:
    """A positive integer, at most `high` when given."""

    def convert(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            n = 0
        if n < 1 or (high is not None and n > high):
            expected = "a positive integer" if high is None else f"an integer from 1 to {high}"
            raise ArgumentTypeError(f"must be {expected}; got {text!r}")
        return n

    return convert


def seed(text: str) -> int:
    """A non-negative integer: any of them seeds numpy's `SeedSequence` (and so `default_rng`)."""
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise ArgumentTypeError(f"must be a non-negative integer; got {text!r}")
    return n


def tolerance(text: str) -> float:
    """A finite number >= 0."""
    try:
        x = float(text)
    except ValueError:
        x = math.nan
    if not (math.isfinite(x) and x >= 0):
        raise ArgumentTypeError(f"must be a finite number >= 0; got {text!r}")
    return x


def seconds(high: float) -> Callable[[str], float]:
    """A duration in (0, high] seconds."""

    def convert(text: str) -> float:
        try:
            x = float(text)
        except ValueError:
            x = math.nan
        if not 0 < x <= high:  # False for NaN
            raise ArgumentTypeError(f"must be a number of seconds in (0, {high:g}]; got {text!r}")
        return x

    return convert


def names(choices: tuple[str, ...], noun: str, at_least: int) -> Callable[[str], list[str]]:
    """'a,b' → ['a', 'b']: `at_least` different names from `choices`, comma-separated."""

    def convert(text: str) -> list[str]:
        given = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in given if name not in choices]
        if unknown:
            raise ArgumentTypeError(f"unknown {noun} {unknown[0]!r}; choose {at_least} or more of {', '.join(choices)}")
        if len(set(given)) != len(given) or len(given) < at_least:
            raise ArgumentTypeError(f"needs {at_least} or more different {noun}s, e.g. {','.join(choices[:3])}; "
                                    f"got {text!r}")
        return given

    return convert


def output_file(*suffixes: str) -> Callable[[str], Path]:
    """A file to write, its name ending in one of `suffixes` (any case): not a directory or another non-regular
    file, in a folder that exists and is writable (`underact.files.output_problem`)."""

    def convert(text: str) -> Path:
        path = Path(text)
        if path.suffix.lower() not in suffixes:
            raise ArgumentTypeError(f"{text}: the file name must end in {' or '.join(suffixes)}")
        problem = output_problem(path)
        if problem is not None:
            hint = f"; give a new {suffixes[0]} file name" if problem.startswith("exists") else ""
            raise ArgumentTypeError(f"{text}: {problem}{hint}")
        return path

    return convert


def layer_sizes(text: str) -> tuple[int, ...]:
    """'128,64' → (128, 64); 'none' → () (no hidden layer)."""
    if text.strip().lower() == "none":
        return ()
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise ArgumentTypeError(f"expected layer sizes like 128,64 (or none), got {text!r}") from None
    if min(sizes) < 1:
        raise ArgumentTypeError(f"expected positive layer sizes like 128,64, got {text!r}")
    return sizes


def target_return(text: str) -> float | str:
    """A number, 'auto' or 'none'."""
    if text in ("auto", "none"):
        return text
    try:
        return float(text)
    except ValueError:
        raise ArgumentTypeError(f"expected a number, 'auto' or 'none', got {text!r}") from None


def json_object(text: str) -> dict:
    """A JSON object, e.g. '{"length": 1.0}'."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArgumentTypeError(f"must be a JSON object: {exc.msg}") from None
    if not isinstance(value, dict):
        raise ArgumentTypeError("must be a JSON object like '{\"length\": 1.0}'")
    return value


def json_objects(text: str) -> list[dict]:
    """A non-empty JSON list of objects, e.g. '[{"damage": null}]'."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArgumentTypeError(f"must be a JSON list of objects: {exc.msg}") from None
    if not isinstance(value, list) or not value or not all(isinstance(m, dict) for m in value):
        raise ArgumentTypeError("must be a JSON list of objects, at least one, like '[{\"damage\": null}]'")
    return value


def encoder(text: str) -> str:
    """KIND:PATH with PATH made absolute, so that a run resumes from any directory (the kind and the file are
    checked where the run starts)."""
    kind, colon, path = text.partition(":")
    return f"{kind}:{Path(path).expanduser().absolute()}" if colon and path else text
