"""User-facing errors: anything raised as `UnderactError` is printed as one line and exits with code 2."""


class UnderactError(Exception):
    """Bad input from a user (a file, a flag, a model name). The message is one line and names the fix."""
