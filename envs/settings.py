"""The arguments of a system's environments, written once: one frozen settings dataclass per system.

`settings_class(record, ...)` makes a system's settings (`AcrobotSettings`, `CartPoleSettings`; the other systems'
through `system_settings`) from `EnvSettings`, the arguments every environment takes, with the task arguments'
defaults read from the system's record (`underact.systems.base.TaskDefaults`) and the system's own arguments (a
rail's `x_limit`) added. Its single and its vector environment both take their keyword arguments through it
(`EnvSettings.of`), and `arguments_doc` writes the "Arguments" section of their manuals from the fields' defaults
and documentation (`doc` in each field's metadata).
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields, make_dataclass
from functools import cache
from typing import Any, ClassVar

import numpy as np

from underact.systems.base import make_params

#: The largest frame side in pixels (a 4096 × 4096 RGB frame is 48 MB; a vector environment draws one per copy).
MAX_PIXELS = 4096


def setting(default: Any, doc: str) -> Any:
    """A settings field: its default and its one line of documentation."""
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class EnvSettings:
    """The arguments every environment takes; the physical parameters (`**params`) are the system's params class's
    fields. The task arguments' defaults here are replaced by each system's (`settings_class`)."""

    #: The system's record (`underact.systems.base.System`) and the `Task` class its environments run.
    record: ClassVar[Any] = None
    task_class: ClassVar[type] = None

    task: str = setting("swingup", '"swingup" or "balance" (the registered ids set it).')
    backend: str = setting(
        "analytic",
        '"analytic" (closed form + RK4, default, fastest), "drake" (RK4 on the Drake plant\'s terms; where Drake\'s '
        'model is its shipped file, only `u_limit` may change) or "mujoco" (`mj_step`, RK4 integrator). The vector '
        'environment runs "analytic" only.',
    )
    render_mode: str | None = setting(None, 'None or "rgb_array".')
    actuator_gain: float = setting(
        1.0,
        "the fraction of the commanded force the motor delivers (1 healthy, 0.5 damaged); in the vector "
        "environment also one value per copy.",
    )
    fall_angle: float = setting(1.0, "balance: how far from upright counts as a fall, in radians (see Episode End).")
    reset_noise: float = setting(0.05, "the half-width of the uniform noise added to each start coordinate.")
    max_speed: float = setting(8 * np.pi, "rad/s: a joint spinning faster ends the episode (both tasks).")
    width: int = setting(64, 'frame width in pixels for render_mode="rgb_array" (8 to 4096).')
    height: int = setting(64, "frame height in pixels (8 to 4096).")

    def __post_init__(self) -> None:
        """The arguments' forms that are the same for every environment (the single and the vector one alike)."""
        if self.render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array'; got {self.render_mode!r}")
        sides, whole = (self.width, self.height), (int, np.integer)
        if not all(isinstance(n, whole) and not isinstance(n, bool) and 8 <= n <= MAX_PIXELS for n in sides):
            raise ValueError(
                f"width and height must be whole numbers of pixels from 8 to {MAX_PIXELS}; got {self.width!r} x "
                f"{self.height!r}"
            )

    @classmethod
    def of(cls, task: str | None, options: dict) -> tuple[EnvSettings, dict]:
        """The settings among an environment's keyword arguments (`task` given apart, None: the default) and the
        rest: the physical parameters (checked by `make_task`)."""
        names = {f.name for f in fields(cls)}
        chosen = {k: v for k, v in options.items() if k in names}
        if task is not None:
            chosen["task"] = task
        return cls(**chosen), {k: v for k, v in options.items() if k not in names}

    def own(self) -> dict:
        """The system's own arguments (those `EnvSettings` does not have) by name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _COMMON}

    def make_task(self, params: dict):
        """The `Task` these settings describe, on the physical parameters `params` (one value per copy allowed)."""
        record = self.record
        checked = make_params(record.params, params, per_copy=True)
        extra = {} if self.task_class.__dict__.get("name") else {"system": record.name}
        return self.task_class(
            checked, self.task, self.fall_angle, self.reset_noise, self.max_speed, **extra, **self.own()
        )


_COMMON = frozenset(f.name for f in fields(EnvSettings))
#: The task arguments whose defaults each system's record gives (`TaskDefaults`).
TASK_ARGUMENTS = ("fall_angle", "reset_noise", "max_speed")


def settings_class(record, task_class: type, own: tuple = (), module: str = __name__) -> type[EnvSettings]:
    """A system's settings: `EnvSettings` with the record's task defaults, then `own` fields of the system's own
    arguments ((name, type, `setting(...)`) each); `module` is where it is defined (for pickling)."""
    defaults = record.task
    replaced = [
        (f.name, f.type, setting(getattr(defaults, f.name), f.metadata["doc"]))
        for f in fields(EnvSettings)
        if f.name in TASK_ARGUMENTS
    ]
    title = f"{defaults.title or record.name.title()}Settings"
    namespace = {"record": record, "task_class": task_class, "__module__": module}
    return make_dataclass(title, [*replaced, *own], bases=(EnvSettings,), frozen=True, namespace=namespace)


@cache
def system_settings(record) -> type[EnvSettings]:
    """The settings of a system without an environment module of its own (its task a `SystemTask`)."""
    from underact.envs.task import SystemTask

    return settings_class(record, SystemTask)


def _default_text(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return "8π" if value == 8 * np.pi else repr(value)


def arguments_doc(settings: type[EnvSettings], env_id: str, params: str) -> str:
    """The "Arguments" section of a manual, indented as a class docstring: the `gymnasium.make` call with every
    default, then each argument's documentation, then `params` (the physical parameters' paragraph)."""
    arguments = ", ".join(f"{f.name}={_default_text(f.default)}" for f in fields(settings) if f.name != "task")
    lines = ["", "", "## Arguments", f'`gymnasium.make("{env_id}", {arguments}, **params)`', ""]
    lines += [f"- `{f.name}`: {f.metadata['doc']}" for f in fields(settings) if f.default is not MISSING]
    lines.append(f"- `params`: {params}")
    return "".join(f"\n    {line}" if line else "\n" for line in lines) + "\n"
