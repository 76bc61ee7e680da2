"""What an environment needs from a system, batched over a leading axis: dynamics, observation, reward, end, drawing.

A `System` holds one system's physical parameters (floats, or one value per copy for vector environments) and one
task ("swingup" or "balance"). States are float64 arrays (N, 4) laid out q then v; actions are forces (N, 1)
already scaled by the actuator gain. The closed-form dynamics (`vdot`) and the fixed-step RK4 (`rk4`, `step`) here
are both the single environment's analytic backend and the vector environments' engine: one implementation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from underact.envs.render import View, draw_capsules

TASKS = ("swingup", "balance")
#: Default limit on joint speeds (rad/s), 8π: beyond it an episode ends (see `System.terminated`).
MAX_SPEED = 8 * np.pi


def wrap_angle(a: np.ndarray) -> np.ndarray:
    """Angles mapped to [−π, π)."""
    return (a + np.pi) % (2 * np.pi) - np.pi


class System(ABC):
    """One system and task. Subclasses define the model; `step`, rewards and terminations are shared."""

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
    #: Capsule radii (S,) in pixels at 64 × 64, and their colours (S, 3).
    radii: np.ndarray
    colors: np.ndarray
    #: (width, height) in pixels of a frame that shows the whole scene well (videos, `fixed_camera=True`).
    scene_size: tuple[int, int] = (240, 240)

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
        self.task = task
        self.fall_angle = float(fall_angle)
        self.reset_noise = float(reset_noise)
        self.max_speed = float(max_speed)
        self.u_limit = float(params.u_limit)

    @abstractmethod
    def vdot(self, q1, q2, v1, v2, force):
        """Accelerations (v̇1, v̇2) in closed form; every argument is a float or every one an (N,) array."""

    @abstractmethod
    def observe(self, x: np.ndarray) -> np.ndarray:
        """Observations (N, obs_dim) float32."""

    @abstractmethod
    def height(self, x: np.ndarray) -> np.ndarray:
        """How upright (N,): 1 at the goal, −1 hanging straight down."""

    @abstractmethod
    def segments(self, x: np.ndarray, fixed_camera: bool = False) -> np.ndarray:
        """Capsules (N, S, 2, 2) to draw, world coordinates in metres (relative to a moving camera, if any,
        unless `fixed_camera`)."""

    @abstractmethod
    def view(self, width: int, height: int, fixed_camera: bool = False) -> View:
        """The camera for frames of this size (`fixed_camera`: the whole scene, ignoring a following camera)."""

    def rk4(self, x: tuple, force) -> tuple:
        """(q1, q2, v1, v2) after one environment step `dt`: `substeps` classic RK4 steps, force held constant.

        Works on the state's four components, each a float (the single environment: no small-array overhead)
        or each an (N,) array (the vector environment), with one code path.
        """
        h = self.dt / self.substeps
        hh, h6 = 0.5 * h, h / 6.0
        q1, q2, v1, v2 = x
        for _ in range(self.substeps):
            a1, a2 = self.vdot(q1, q2, v1, v2, force)  # k1 = (v1, v2, a1, a2)
            u1, u2 = v1 + hh * a1, v2 + hh * a2
            b1, b2 = self.vdot(q1 + hh * v1, q2 + hh * v2, u1, u2, force)  # k2 = (u1, u2, b1, b2)
            w1, w2 = v1 + hh * b1, v2 + hh * b2
            c1, c2 = self.vdot(q1 + hh * u1, q2 + hh * u2, w1, w2, force)  # k3 = (w1, w2, c1, c2)
            z1, z2 = v1 + h * c1, v2 + h * c2
            d1, d2 = self.vdot(q1 + h * w1, q2 + h * w2, z1, z2, force)  # k4 = (z1, z2, d1, d2)
            q1 = q1 + h6 * (v1 + z1 + 2.0 * (u1 + w1))
            q2 = q2 + h6 * (v2 + z2 + 2.0 * (u2 + w2))
            v1 = v1 + h6 * (a1 + d1 + 2.0 * (b1 + c1))
            v2 = v2 + h6 * (a2 + d2 + 2.0 * (b2 + c2))
        return q1, q2, v1, v2

    def step(self, x: np.ndarray, force: np.ndarray) -> np.ndarray:
        """States (N, 4) after one environment step from x (N, 4) under forces (N, 1).

        The result is the transpose of a (4, N) array, so each state component is contiguous in memory, which
        is what the next step's column-wise arithmetic reads.
        """
        return np.stack(self.rk4(tuple(x.T), force[:, 0]), axis=0).T

    def reward(self, x: np.ndarray) -> np.ndarray:
        """Swing-up: (1 + height) / 2 in [0, 1]; balance: 1 per step alive."""
        if self.task == "balance":
            return np.ones(len(x))
        return 0.5 * (1.0 + self.height(x))

    def angle_error(self, x: np.ndarray) -> np.ndarray:
        """Largest wrapped angle distance (N,) of the joint angles from upright."""
        q = x[:, :2]
        angular = self.angular_mask
        return np.abs(wrap_angle(q[:, angular] - self.upright[angular])).max(axis=1)

    def terminated(self, x: np.ndarray) -> np.ndarray:
        """A joint spinning faster than `max_speed`; for balance also `fallen(x)`.

        The speed limit keeps the fixed-step RK4 accurate (a constant maximal torque would otherwise spin the
        acrobot up until the integration fails) and stands for the hardware's limits. Subclasses add their own.
        """
        ended = np.abs(x[:, 2:][:, self.angular_mask]).max(axis=1) > self.max_speed
        if self.task == "balance":
            ended |= self.fallen(x)
        return ended

    def fallen(self, x: np.ndarray) -> np.ndarray:
        """Balance tasks end here (N,): an angle more than `fall_angle` from upright (systems may redefine it)."""
        return self.angle_error(x) > self.fall_angle

    def start(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n start states (n, 4): hanging rest (swing-up) or upright (balance), plus uniform noise on q and v."""
        q0 = self.q_rest if self.task == "swingup" else self.upright
        x0 = np.concatenate([q0, np.zeros(2)])
        return x0 + rng.uniform(-self.reset_noise, self.reset_noise, size=(n, 4))

    def render(self, x: np.ndarray, width: int, height: int, fixed_camera: bool = False) -> np.ndarray:
        """Frames (N, height, width, 3) uint8 (`fixed_camera`: the whole scene even if the camera follows)."""
        radii = self.radii * min(width, height) / 64.0
        return draw_capsules(self.view(width, height, fixed_camera), self.segments(x, fixed_camera), radii, self.colors)


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
