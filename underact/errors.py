"""User-facing errors: anything raised as `UnderactError` is printed as one line and exits with code 2.

Library code raises these (never `SystemExit`), so a caller's `except Exception` sees every failure and the CLI
turns each into one line on stderr. Subclasses name a kind of failure a caller may want to catch on its own.
"""


class UnderactError(Exception):
    """Bad input from a user (a file, a flag, a model name). The message is one line and names the fix."""


class DivergenceError(UnderactError, ArithmeticError):
    """A simulation or evaluation left the finite numbers: non-finite state or terms, MuJoCo's divergence
    warnings, or Drake's simulator giving up. Every backend raises this one class; nothing resets on its own."""


class SingularMassMatrixError(UnderactError, ArithmeticError):
    """M(q) is singular (a massless body or a degenerate inertia): forward dynamics and f2 = M⁻¹B are undefined."""
