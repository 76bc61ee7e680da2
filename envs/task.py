"""A task on a built-in system, batched over a leading axis: observation, reward, termination, start, scene.

A `Task` is one goal ("swingup" or "balance", `goal`) on one system, composed with the plant's physical parameters
(`params`: floats, or one value per copy for vector environments) and the constants of its closed form's RK4
(`kernel`, `underact.simulate.rk4.Kernel`). Its observation and outcome are numpy here; the compiled step that
fuses them with the RK4 is `underact.envs.packed`'s. Its scene is drawn by the one renderer (`underact.render`).
States are float64 arrays (N, 4) laid out q then v.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import cache, cached_property

import numpy as np

from underact import systems
from underact.render import Scene, View, draw_capsules
from underact.simulate.rk4 import Kernel, table

TASKS = ("swingup", "balance")


#: Default limit on joint speeds (rad/s), 8π: beyond it an episode ends (see `Task.terminated`).
MAX_SPEED = 8 * np.pi


class Task(ABC):
    """One goal on one system. Subclasses define the observation, outcome and scene; the rest is shared."""

    name: str
    #: Seconds per environment step, and RK4 steps inside one environment step.
    dt: float
    substeps: int
    #: Observation length, and how many leading observation entries depend on positions only.
    obs_dim: int
    n_position_obs: int
    #: Which observation entries are cosines or sines (bounded by ±1).
    trig_obs: np.ndarray
    #: Configuration at the goal and when hanging at rest (angles in radians); which coordinates are angles.
    upright: np.ndarray
    q_rest: np.ndarray
    angular_mask: np.ndarray

    def __init__(self, params, task: str, fall_angle: float, reset_noise: float, max_speed: float):
        if task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}; got {task!r}")
        if not (np.isfinite(fall_angle) and fall_angle > 0):
            raise ValueError(f"fall_angle must be a positive number of radians; got {fall_angle!r}")
        if not (max_speed > 0):
            raise ValueError(f"max_speed must be a positive number of rad/s; got {max_speed!r}")
        if not (np.isfinite(reset_noise) and reset_noise >= 0):
            raise ValueError(f"reset_noise must be a non-negative number; got {reset_noise!r}")
        self.params = params  # checked by `make_params(..., per_copy=True)`
        self.copies = _copies(self.name, params)
        self.goal = task
        self.fall_angle = float(fall_angle)
        self.reset_noise = float(reset_noise)
        self.max_speed = float(max_speed)
        self.u_limit = float(params.u_limit)
        self.kernel = Kernel(self.name, params, self.dt, self.substeps)
        self.scene = self.make_scene()

    @abstractmethod
    def make_scene(self) -> Scene:
        """What `render` draws: the system's `underact.render.Scene` for its parameters."""

    @property
    def radii(self) -> np.ndarray:
        """Capsule radii (S,) in pixels at 64 × 64."""
        return self.scene.radii

    @property
    def colors(self) -> np.ndarray:
        """Capsule colours (S, 3) in 0..255, in drawing order."""
        return self.scene.colors

    @property
    def scene_size(self) -> tuple[int, int]:
        """(width, height) in pixels of a frame that shows the whole scene well (videos, `fixed_camera=True`)."""
        return self.scene.size

    @cached_property
    def task_table(self) -> np.ndarray:
        """`task_constants` as the compiled steps' (N or 1, K) table."""
        return table(self.task_constants())

    @abstractmethod
    def task_constants(self) -> tuple:
        """The constants `outcome` reads (task, limits, lengths): floats, or arrays per copy."""

    @abstractmethod
    def components(self, x: np.ndarray) -> tuple:
        """Observation entries, and (reward, terminated), from state components: `(observe, outcome)` of the system's
        module, numpy here (the same functions run compiled in `underact.envs.packed`'s kernels)."""

    def segments(self, x: np.ndarray, fixed_camera: bool = False) -> np.ndarray:
        """Capsules (N, S, 2, 2) to draw, world coordinates in metres (relative to a moving camera, if any,
        unless `fixed_camera`)."""
        return self.scene.segments(x)

    def view(self, width: int, height: int, fixed_camera: bool = False) -> View:
        """The camera for frames of this size (`fixed_camera`: the whole scene, ignoring a following camera)."""
        return self.scene.view(width, height)

    def observe(self, x: np.ndarray) -> np.ndarray:
        """Observations (N, obs_dim) float32."""
        return np.stack(self.components(x)[0], axis=1).astype(np.float32)

    def reward(self, x: np.ndarray) -> np.ndarray:
        """Swing-up: (1 + height) / 2 in [0, 1], height 1 upright and −1 hanging; balance: 1 per step alive."""
        return np.broadcast_to(self.components(x)[1][0], (len(x),)).astype(np.float64)

    def terminated(self, x: np.ndarray) -> np.ndarray:
        """A joint spinning faster than `max_speed`; for balance also a fall (each system says what that is).

        The speed limit keeps the fixed-step RK4 accurate (a constant maximal torque would otherwise spin the
        acrobot up until the integration fails) and stands for the hardware's limits.
        """
        return self.components(x)[1][1]

    @cached_property
    def tables(self) -> tuple:
        """(vdot_constants, outcome_constants): the closed form's and the outcome's constants as the compiled steps
        (`underact.envs.packed`) take them, tuples of floats
        when shared by every copy (so a loop over copies reads no memory for them), (N, K) tables per copy."""
        return tuple(tuple(map(float, t[0])) if len(t) == 1 else t for t in (self.kernel.table, self.task_table))

    @cached_property
    def restart(self) -> tuple:
        """(q1, q2, v1, v2, noise): the start distribution's centre and half-width (see `start`)."""
        q0 = self.q_rest if self.goal == "swingup" else self.upright
        return float(q0[0]), float(q0[1]), 0.0, 0.0, self.reset_noise

    def start(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n start states (n, 4): hanging rest (swing-up) or upright (balance), plus uniform noise on q and v."""
        return np.array(self.restart[:4]) + rng.uniform(-self.reset_noise, self.reset_noise, size=(n, 4))

    def render(self, x: np.ndarray, width: int, height: int, fixed_camera: bool = False) -> np.ndarray:
        """Frames (N, height, width, 3) uint8 (`fixed_camera`: the whole scene even if the camera follows)."""
        radii = self.radii * min(width, height) / 64.0
        return draw_capsules(self.view(width, height, fixed_camera), self.segments(x, fixed_camera), radii, self.colors)


class SystemTask(Task):
    """A task on a two-DoF system, everything read from its record (`underact.systems`: closed form, observation,
    outcome, scene, steps). `system` names it where the class does not (`AcrobotTask.name`); `options` are the
    system's own task arguments (a rail's `x_limit`), handed to its scene and outcome."""

    def __init__(self, params, task: str, fall_angle: float, reset_noise: float, max_speed: float,
                 system: str | None = None, **options):
        record = systems.get(system or self.name)
        if record.task is None:
            raise ValueError(f"{record.name} has no environments")
        defaults = record.task
        self.record, self.name, self.options = record, record.name, options
        self.dt, self.substeps = defaults.dt, defaults.substeps
        self.trig_obs = np.array(defaults.trig_obs)
        self.obs_dim, self.n_position_obs = len(defaults.trig_obs), defaults.n_position_obs
        plant = _default_plant(record)
        self.upright, self.q_rest, self.angular_mask = plant.upright, plant.q_rest, plant.angle_mask
        self._observe, self._outcome = defaults.observe, defaults.outcome
        super().__init__(params, task, fall_angle, reset_noise, max_speed)

    def make_scene(self) -> Scene:
        return self.record.scene(self.params, **self.options)

    def task_constants(self) -> tuple:
        return self.record.task.outcome_constants(self)

    def components(self, x: np.ndarray) -> tuple:
        q1, q2, v1, v2 = x[:, 0], x[:, 1], x[:, 2], x[:, 3]
        return self._observe(q1, q2, v1, v2), self._outcome(q1, q2, v1, v2, self.task_constants())

    def observe(self, x: np.ndarray) -> np.ndarray:
        """Observations (N, obs_dim) float32 (the observation alone: a reset needs no outcome)."""
        return np.stack(self._observe(x[:, 0], x[:, 1], x[:, 2], x[:, 3]), axis=1).astype(np.float32)


@cache
def _default_plant(record):
    return record.plant(record.params())


def _copies(system: str, params) -> int | None:
    """How many copies the per-copy (array) parameters describe, None if every parameter is shared."""
    sizes = {len(value) for value in vars(params).values() if np.ndim(value)}
    if len(sizes) > 1:
        raise ValueError(f"{system} per-copy parameters must all have the same length; got {sorted(sizes)}")
    return sizes.pop() if sizes else None


def real_array(value, what: str) -> np.ndarray:
    """`value` as a float64 array; ValueError for anything but real numbers (complex, bool, text, objects)."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"{what} must be real numbers (float or int); got dtype {arr.dtype}")
    return arr.astype(np.float64)


def check_state(x0, what: str = "options['state']") -> np.ndarray:
    """A finite float64 copy of x0 with shape (4,), or a ValueError naming the problem."""
    arr = real_array(x0, what)
    if arr.shape != (4,):
        raise ValueError(f"{what} must be 4 numbers (q then v); got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} must be finite; got {arr.tolist()}")
    return arr
