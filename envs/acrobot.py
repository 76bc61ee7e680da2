"""The acrobot environments: `underact/AcrobotSwingUp-v0` and `underact/AcrobotBalance-v0`."""

from __future__ import annotations

import numpy as np

from underact.envs.base import UnderactEnv
from underact.envs.render import View
from underact.envs.system import MAX_SPEED, System
from underact.plants.analytic import AcrobotParams, make_params


class AcrobotSystem(System):
    """Spong's acrobot in closed form (Tedrake, "Underactuated Robotics", ch. 3.1), q = (θ1, θ2), θ2 relative.

        M = [[I1 + I2 + m2 l1² + 2 m2 l1 lc2 c2,  I2 + m2 l1 lc2 c2],
             [I2 + m2 l1 lc2 c2,                  I2              ]]       I1 = Ic1 + m1 lc1², I2 = Ic2 + m2 lc2²
        Cv = [−2 m2 l1 lc2 s2 θ̇1 θ̇2 − m2 l1 lc2 s2 θ̇2²,  m2 l1 lc2 s2 θ̇1²]
        τg = [−m1 g lc1 s1 − m2 g (l1 s1 + lc2 s12),  −m2 g lc2 s12],   B = [0, 1]ᵀ,   damping −b ⊙ θ̇

    The 2 × 2 system M v̇ = τg − Cv − b ⊙ v + B u is solved with the explicit inverse.
    """

    name = "acrobot"
    dt = 0.05
    substeps = 2
    obs_dim = 6
    n_position_obs = 4
    trig_obs = np.array([True, True, True, True, False, False])
    upright = np.array([np.pi, 0.0])
    q_rest = np.zeros(2)
    angular_mask = np.array([True, True])
    radii = np.array([2.0, 2.0, 1.5])
    colors = np.array([[40, 90, 200], [205, 75, 50], [30, 30, 30]], dtype=np.float32)

    def __init__(self, params: AcrobotParams, task: str, fall_angle: float, reset_noise: float, max_speed: float):
        super().__init__(params, task, fall_angle, reset_noise, max_speed)
        p = self.params
        self._I2 = p.Ic2 + p.m2 * p.lc2**2
        self._M11_0 = p.Ic1 + p.m1 * p.lc1**2 + self._I2 + p.m2 * p.l1**2
        self._h = p.m2 * p.l1 * p.lc2
        self._g1 = (p.m1 * p.lc1 + p.m2 * p.l1) * p.gravity
        self._g2 = p.m2 * p.lc2 * p.gravity

    def vdot(self, th1, th2, w1, w2, force):
        p = self.params
        hc2, hs2 = self._h * np.cos(th2), self._h * np.sin(th2)
        m11 = self._M11_0 + 2.0 * hc2
        m12 = self._I2 + hc2
        g2 = self._g2 * np.sin(th1 + th2)
        r1 = hs2 * w2 * (2.0 * w1 + w2) - self._g1 * np.sin(th1) - g2 - p.b1 * w1  # τg − Cv − b θ̇, row 1
        r2 = force - hs2 * w1 * w1 - g2 - p.b2 * w2  # row 2, plus the elbow torque
        det = m11 * self._I2 - m12 * m12
        return (self._I2 * r1 - m12 * r2) / det, (m11 * r2 - m12 * r1) / det

    def observe(self, x):
        th1, th2 = x[:, 0], x[:, 1]
        obs = np.stack([np.cos(th1), np.sin(th1), np.cos(th2), np.sin(th2), x[:, 2], x[:, 3]], axis=1)
        return obs.astype(np.float32)

    def height(self, x):
        p = self.params
        tip = -p.l1 * np.cos(x[:, 0]) - p.l2 * np.cos(x[:, 0] + x[:, 1])
        return tip / (p.l1 + p.l2)

    def fallen(self, x):
        """The tip below cos(fall_angle) of the reach: the elbow may bend as far as balancing needs (a sampled-data
        LQR swings it by up to 1.6 rad), but a folded or leaning acrobot is down."""
        return self.height(x) < np.cos(self.fall_angle)

    def segments(self, x, fixed_camera=False):
        p = self.params
        n = len(x)
        elbow = np.stack([p.l1 * np.sin(x[:, 0]), -p.l1 * np.cos(x[:, 0])], axis=1)
        a12 = x[:, 0] + x[:, 1]
        tip = elbow + np.stack([p.l2 * np.sin(a12), -p.l2 * np.cos(a12)], axis=1)
        origin = np.zeros((n, 2))
        return np.stack(
            [np.stack([origin, elbow], 1), np.stack([elbow, tip], 1), np.stack([origin, origin], 1)], axis=1
        )

    def view(self, width, height, fixed_camera=False):
        reach = 1.1 * float(np.max(self.params.l1 + self.params.l2))
        return View((0.0, 0.0), min(width, height) / (2 * reach), width, height)


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
    that LQR: 437.6 ± 87.4 (a few episodes spin past `max_speed` while pumping). Registered `reward_threshold`:
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
        system = AcrobotSystem(
            make_params(AcrobotParams, params, per_copy=True), task, fall_angle, reset_noise, max_speed
        )
        super().__init__(system, backend, params, render_mode, actuator_gain, width, height)
