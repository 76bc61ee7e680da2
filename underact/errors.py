"""User-facing errors: anything raised as `UnderactError` is printed as one line and exits with code 2.

Library code raises these (never `SystemExit`), so a caller's `except Exception` sees every failure and the CLI
turns each into one line on stderr. `UnderactError` is a `ValueError`: code that catches bad input as
`ValueError` (Gymnasium's convention) catches ours too, and nothing converts one into the other. Subclasses name
a kind of failure a caller may want to catch on its own. `one_line` is how any exception is shown in one line.
"""

#: The longest `one_line` text; a longer message is cut and ends in "...".
ONE_LINE_MAX = 300


class UnderactError(ValueError):
    """Bad input from a user (a file, a flag, a model name). The message is one line and names the fix."""


class DivergenceError(UnderactError, ArithmeticError):
    """A simulation or evaluation left the finite numbers: non-finite state or terms, MuJoCo's divergence
    warnings, or Drake's simulator giving up. Every backend raises this one class; nothing resets on its own."""


class SingularMassMatrixError(UnderactError, ArithmeticError):
    """M(q) is singular (a massless body or a degenerate inertia): forward dynamics and f2 = M⁻¹B are undefined."""


def one_line(exc: BaseException, limit: int = ONE_LINE_MAX) -> str:
    """`exc`'s message in one line: its whitespace (newlines included) collapsed, cut to `limit` characters (ending
    in "..."), or the exception's type name when the message is empty. Engines' multi-line messages (Drake's,
    MuJoCo's "Element ..., line N" notes) keep their detail instead of losing all but the first line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
