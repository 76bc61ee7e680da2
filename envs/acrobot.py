"""The acrobot environments: `underact/AcrobotSwingUp-v0` and `underact/AcrobotBalance-v0`."""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

from underact.envs.base import UnderactEnv
from underact.envs.task import MAX_SPEED, Task, fused_kernels
from underact.plants.analytic import AcrobotParams, acrobot_points, acrobot_vdot, make_params
from underact.plants.trig import select, sincos
from underact.render import AcrobotScene


def observe(q1, q2, v1, v2) -> tuple:
    """The observation's entries: (cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2)."""
    s1, c1 = sincos(q1)
    s2, c2 = sincos(q2)
    return c1, s1, c2, s2, v1, v2


def outcome(q1, q2, v1, v2, k) -> tuple:
    """(reward, terminated) with k = (balance, max_speed, cos fall_angle, l1, l2); h = tip height / reach.

    Swing-up: reward (1 + h) / 2; balance: 1, and the episode also ends when h < cos(fall_angle): the elbow may
    bend as far as balancing needs (a sampled-data LQR swings it by up to 1.6 rad), but a folded or leaning
    acrobot is down. Both end when a joint spins faster than max_speed.
    """
    h, balance = acrobot_points(k[3], k[4], q1, q2)[3] / (k[3] + k[4]), k[0] > 0.0
    spinning = (np.abs(v1) > k[1]) | (np.abs(v2) > k[1])
    return select(balance, 1.0, 0.5 * (1.0 + h)), spinning | (balance & (h < k[2]))


for function in (acrobot_points, observe, outcome):
    register_jitable(function)


compiled_batch, compiled_step, compiled_advance = fused_kernels(acrobot_vdot, observe, outcome)


class AcrobotTask(Task):
    """Spong's acrobot (`underact.plants.analytic.acrobot_vdot`), q = (θ1, θ2), θ2 relative."""

    name = "acrobot"
    compiled_batch = staticmethod(compiled_batch)
    compiled_step = staticmethod(compiled_step)
    compiled_advance = staticmethod(compiled_advance)
    dt = 0.05
    substeps = 2
    obs_dim = 6
    n_position_obs = 4
    trig_obs = np.array([True, True, True, True, False, False])
    upright = np.array([np.pi, 0.0])
    q_rest = np.zeros(2)
    angular_mask = np.array([True, True])

    def task_constants(self):
        p = self.params
        return float(self.goal == "balance"), self.max_speed, np.cos(self.fall_angle), p.l1, p.l2

    def components(self, x):
        q1, q2, v1, v2 = x[:, 0], x[:, 1], x[:, 2], x[:, 3]
        return observe(q1, q2, v1, v2), outcome(q1, q2, v1, v2, self.task_constants())

    def make_scene(self):
        return AcrobotScene(self.params.l1, self.params.l2)


class AcrobotEnv(UnderactEnv):
    """Spong's acrobot: two links in a vertical plane, a passive shoulder and a motor at the elbow.

    ## Description
    The first link hangs from a fixed, unactuated shoulder; the motor between the links applies a torque. In
    `underact/AcrobotSwingUp-v0` the acrobot starts hanging down and must swing up and stay upright; in
    `underact/AcrobotBalance-v0` it starts near upright and must not fall. Dynamics: Tedrake, "Underactuated
    Robotics", ch. 3.1, with the parameters of Drake's `examples/acrobot/Acrobot.urdf` by default.

    ## Action Space
    `Box(-u_limit, u_limit, (1,), float32)`: the elbow torque in N·m (u_limit = 20 by default). Actions outside
    the box saturate at the limit; the torque applied is `actuator_gain * action`. NaN or infinite actions
    raise `ValueError`.

    ## Observation Space
    `Box((6,), float32)`, q = 0 hanging down, θ2 relative to the first link:

    | Num | Observation | Min  | Max |
    |-----|-------------|------|-----|
    | 0   | cos θ1      | -1   | 1   |
    | 1   | sin θ1      | -1   | 1   |
    | 2   | cos θ2      | -1   | 1   |
    | 3   | sin θ2      | -1   | 1   |
    | 4   | θ̇1 (rad/s) | -Inf | Inf |
    | 5   | θ̇2 (rad/s) | -Inf | Inf |

    The raw state (θ1, θ2, θ̇1, θ̇2), unwrapped, float64, is `env.unwrapped.state`.

    ## Rewards
    Swing-up: (1 + h) / 2 per step, where h = (−l1 cos θ1 − l2 cos(θ1 + θ2)) / (l1 + l2) is the tip's height
    as a fraction of the reach: 1 upright, 0 hanging. Balance: +1 per step.

    ## Starting State
    Swing-up: (0, 0, 0, 0) (hanging at rest); balance: (π, 0, 0, 0); each coordinate plus uniform noise in
    [−reset_noise, reset_noise]. `reset(options={"state": x0})` starts exactly at x0 = (θ1, θ2, θ̇1, θ̇2).

    ## Episode End
    Termination: a joint spins faster than `max_speed` (8π rad/s by default; both tasks), or (balance) the tip's
    height h falls below cos(`fall_angle`) (1.0 rad by default, h < 0.54: the tip more than 57° from upright, or the
    acrobot folded). The joint angles themselves are not bounded: balancing needs elbow excursions of 1.6 rad.
    Truncation: 500 steps (25 s; dt = 0.05 s, two RK4 steps of 25 ms).
    A step whose state leaves the finite numbers (NaN, infinite or beyond ±1e10, or flagged by MuJoCo or Drake)
    raises `underact.errors.DivergenceError` on every backend; the environment never resets on its own.

    ## Reference controller
    `underact.envs.reference.reference_controller(env)`, from observations at dt = 0.05 s, over 100 seeded starts:
    balance, a sampled-data LQR: 500.0 ± 0.0 (every episode truncates at 500); swing-up, Spong's energy shaping then
    that LQR: 438.0 ± 86.6 (a few episodes spin past `max_speed` while pumping). Registered `reward_threshold`:
    475 (balance), 400 (swing-up).

    ## Arguments
    `gymnasium.make("underact/AcrobotSwingUp-v0", backend="analytic", render_mode=None, actuator_gain=1.0,
    fall_angle=1.0, reset_noise=0.05, max_speed=8π, width=64, height=64, **params)`

    - `backend`: "analytic" (closed form + RK4, default, fastest), "drake" (RK4 on the Drake plant's terms;
      Drake's shipped model, so only `u_limit` may change) or "mujoco" (`mj_step`, RK4 integrator).
    - `params`: physical parameters (`underact.plants.analytic.AcrobotParams`): m1, m2 (kg), l1, l2, lc1, lc2
      (m), Ic1, Ic2 (kg·m², about the centres of mass), b1, b2 (N·m·s), gravity (m/s²), u_limit (N·m). They are
      independent: to stretch a link, scale its l, lc and Ic together. In the vector environment each (but
      u_limit) may also be a sequence with one value per copy. Masses, lengths, Ic and u_limit must lie in
      [1e-6, 1e6], the rest in [0, 1e6] (`underact.plants.analytic.make_params`); anything else is a ValueError.
    - `actuator_gain`: the fraction of the commanded torque the motor delivers (1 healthy, 0.5 damaged).
    - `width`, `height`: frame size in pixels for `render_mode="rgb_array"` (shoulder at the centre).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 20}

    def __init__(
        self,
        task: str = "swingup",
        backend: str = "analytic",
        render_mode: str | None = None,
        actuator_gain: float = 1.0,
        fall_angle: float = 1.0,
        reset_noise: float = 0.05,
        max_speed: float = MAX_SPEED,
        width: int = 64,
        height: int = 64,
        **params: float,
    ):
        env_task = AcrobotTask(
            make_params(AcrobotParams, params, per_copy=True), task, fall_angle, reset_noise, max_speed
        )
        super().__init__(env_task, backend, params, render_mode, actuator_gain, width, height)
