"""The built-in systems: one module each, one record each (`underact.systems.base.System`), listed here.

    from underact import systems
    systems.names()              # ('acrobot', 'cartpole', 'pendulum', 'furuta')
    furuta = systems.get("furuta")
    plant = furuta.plant(furuta.params())

Every stage (plants, simulate, environments, control, rendering, view, the agents' compiled rollout) reads a
system through `get(name)`, never a table keyed by its name. Adding a system is its module and one line in
`BUILTINS`; `register(record)` adds one at run time (tests, a user's own system).

Each line of `BUILTINS` carries, beside the module, what must be known without importing it: the title and the
registered `reward_threshold`s of its Gymnasium tasks (`import underact.envs` registers the ids and imports no
system, environment or engine module).
"""

from __future__ import annotations

import importlib
from typing import NamedTuple


class Builtin(NamedTuple):
    """A built-in's line: its module, and its Gymnasium tasks' title and reward thresholds (none: no tasks)."""

    module: str
    title: str = ""
    thresholds: tuple[tuple[str, float], ...] = ()


#: The built-in systems, in the order the docs and the CLI list them. The thresholds lie below the mean return of
#: each task's reference controller (`underact.envs.reference`) over 100 seeded starts: each module's docstring and
#: its environment's manual give the measured returns.
BUILTINS: dict[str, Builtin] = {
    "acrobot": Builtin("underact.systems.acrobot", "Acrobot", (("swingup", 400.0), ("balance", 475.0))),
    "cartpole": Builtin("underact.systems.cartpole", "CartPole", (("swingup", 430.0), ("balance", 475.0))),
    "pendulum": Builtin("underact.systems.pendulum"),
    "furuta": Builtin("underact.systems.furuta", "Furuta", (("swingup", 400.0), ("balance", 475.0))),
}

_added: dict = {}


def names() -> tuple[str, ...]:
    """The systems' names: the built-ins, then any added with `register`."""
    return (*BUILTINS, *_added)


def get(name: str):
    """The record (`underact.systems.base.System`) of system `name`; a one-line `UnderactError` if none."""
    if name in _added:
        return _added[name]
    line = BUILTINS.get(name) if isinstance(name, str) else None
    if line is None:
        from underact.errors import UnderactError

        raise UnderactError(f"unknown system {name!r}; choose one of {', '.join(names())}")
    return importlib.import_module(line.module).SYSTEM


def register(system) -> None:
    """Adds a system record at run time (it then loads, simulates, draws and steps like a built-in)."""
    if system.name in BUILTINS:
        from underact.errors import UnderactError

        raise UnderactError(f"{system.name!r} is a built-in system; give the new one another name")
    _added[system.name] = system


def unregister(name: str) -> None:
    """Removes a system added with `register` (a no-op for others)."""
    _added.pop(name, None)


def tasks() -> dict[str, tuple[str, str, float]]:
    """Gymnasium id → (system, task, reward_threshold) of every built-in with tasks, without importing them."""
    return {
        f"underact/{line.title}{'SwingUp' if task == 'swingup' else 'Balance'}-v0": (name, task, threshold)
        for name, line in BUILTINS.items()
        for task, threshold in line.thresholds
    }


__all__ = ["BUILTINS", "Builtin", "get", "names", "register", "tasks", "unregister"]
