"""The cart-pole environments: `underact/CartPoleSwingUp-v0` and `underact/CartPoleBalance-v0`."""

from __future__ import annotations

import numpy as np

from underact.envs.base import UnderactEnv
from underact.envs.render import View
from underact.envs.system import MAX_SPEED, System
from underact.plants.analytic import CartPoleParams, make_params

TICK_SPACING = 0.3  # m between the rail's ticks
TICK_HEIGHT = 0.06  # m above and below the rail
TICK_COLOR = np.array([110, 110, 110], dtype=np.float32)


class CartPoleSystem(System):
    """The cart-pole in closed form (Tedrake, "Underactuated Robotics", ch. 3.2), q = (x, θ), θ = 0 hanging.

        M = [[mc + mp, mp l c], [mp l c, mp l²]],   Cv = [−mp l s θ̇², 0],   τg = [0, −mp g l s],   B = [1, 0]ᵀ
        damping −(b_x ẋ, b_theta θ̇)

    The 2 × 2 system is solved with the explicit inverse. The cart must stay within ±x_limit.
    """

    name = "cartpole"
    dt = 0.02
    substeps = 1
    obs_dim = 5
    n_position_obs = 3
    trig_obs = np.array([False, True, True, False, False])
    upright = np.array([0.0, np.pi])
    q_rest = np.zeros(2)
    angular_mask = np.array([False, True])
    radii = np.array([0.6, 1.8, 1.2, 0.9])
    colors = np.array([[170, 170, 170], [60, 60, 60], [205, 75, 50], [30, 30, 30]], dtype=np.float32)
    scene_size = (320, 160)

    def __init__(
        self,
        params: CartPoleParams,
        task: str,
        fall_angle: float,
        reset_noise: float,
        max_speed: float,
        x_limit: float,
        follow: float | None = None,
    ):
        super().__init__(params, task, fall_angle, reset_noise, max_speed)
        if not (np.isfinite(x_limit) and x_limit > 0):
            raise ValueError(f"x_limit must be a positive number of metres; got {x_limit!r}")
        if follow is not None and not (np.isfinite(follow) and follow > 0):
            raise ValueError(f"follow must be None or a positive view width in metres; got {follow!r}")
        self.x_limit = float(x_limit)
        self.follow = None if follow is None else float(follow)
        # Ticks on the rail, so that the cart's motion shows even when a following camera keeps the cart centred.
        n_ticks = 2 * int(np.floor(self.x_limit / TICK_SPACING)) + 1
        self.ticks = TICK_SPACING * (np.arange(n_ticks) - n_ticks // 2)
        self.radii = np.insert(self.radii, 1, np.full(n_ticks, self.radii[0]))
        self.colors = np.insert(self.colors, 1, np.tile(TICK_COLOR, (n_ticks, 1)), axis=0)
        p = self.params
        self._m11, self._m22, self._mpl = p.mc + p.mp, p.mp * p.l**2, p.mp * p.l

    def vdot(self, x, th, xd, thd, force):
        p = self.params
        s, c = np.sin(th), np.cos(th)
        m12 = self._mpl * c
        r1 = force + self._mpl * s * thd * thd - p.b_x * xd  # τg − Cv − b v + B u, row 1
        r2 = -self._mpl * p.gravity * s - p.b_theta * thd  # row 2
        det = self._m11 * self._m22 - m12 * m12
        return (self._m22 * r1 - m12 * r2) / det, (self._m11 * r2 - m12 * r1) / det

    def observe(self, x):
        th = x[:, 1]
        return np.stack([x[:, 0], np.cos(th), np.sin(th), x[:, 2], x[:, 3]], axis=1).astype(np.float32)

    def height(self, x):
        return -np.cos(x[:, 1])

    def terminated(self, x):
        """Off the rail (|x| > x_limit) for both tasks; balance also ends when the pole falls."""
        return super().terminated(x) | (np.abs(x[:, 0]) > self.x_limit)

    def segments(self, x, fixed_camera=False):
        p = self.params
        n = len(x)
        cart = np.stack([x[:, 0], np.zeros(n)], axis=1)
        tip = cart + np.stack([p.l * np.sin(x[:, 1]), -p.l * np.cos(x[:, 1])], axis=1)
        half = 0.25 * np.array([1.0, 0.0])
        rail = np.broadcast_to(np.array([[-self.x_limit, 0.0], [self.x_limit, 0.0]]), (n, 2, 2))
        segments = np.stack(
            [rail, np.stack([cart - half, cart + half], 1), np.stack([cart, tip], 1), np.stack([cart, cart], 1)],
            axis=1,
        )
        ticks = np.zeros((n, len(self.ticks), 2, 2))
        ticks[..., 0] = self.ticks[None, :, None]
        ticks[:, :, 0, 1], ticks[:, :, 1, 1] = -TICK_HEIGHT, TICK_HEIGHT
        segments = np.concatenate([segments[:, :1], ticks, segments[:, 1:]], axis=1)
        if self.follow is not None and not fixed_camera:  # a camera riding with the cart: the world moves by -x
            segments[..., 0] -= x[:, 0, None, None]
        return segments

    def view(self, width, height, fixed_camera=False):
        if self.follow is not None and not fixed_camera:
            return View((0.0, 0.0), width / self.follow, width, height)
        longest = float(np.max(self.params.l))
        half_width = self.x_limit + max(longest, 0.25) + 0.1
        scale = min(width / (2 * half_width), height / (2.2 * longest))
        return View((0.0, 0.0), scale, width, height)


class CartPoleEnv(UnderactEnv):
    """The cart-pole: a cart pushed along a rail by a force, a pole swinging freely on a pin on the cart.

    ## Description
    In `underact/CartPoleSwingUp-v0` the pole starts hanging down and must be swung up and balanced; in
    `underact/CartPoleBalance-v0` it starts near upright and must not fall. Dynamics: Tedrake, "Underactuated
    Robotics", ch. 3.2 (a point mass mp at distance l from the pin), with the parameters of Drake's
    `examples/multibody/cart_pole/cart_pole.sdf` by default (mc = 10 kg, mp = 1 kg, l = 0.5 m). Unlike
    Gymnasium's `CartPole-v1` the action is a continuous force and the integrator is RK4.

    ## Action Space
    `Box(-u_limit, u_limit, (1,), float32)`: the force on the cart in N (u_limit = 200 by default). Actions
    outside the box saturate at the limit; the force applied is `actuator_gain * action`. NaN or infinite
    actions raise `ValueError`.

    ## Observation Space
    `Box((5,), float32)`, θ = 0 hanging down, θ = π upright:

    | Num | Observation   | Min  | Max |
    |-----|---------------|------|-----|
    | 0   | x (m)         | -Inf | Inf |
    | 1   | cos θ         | -1   | 1   |
    | 2   | sin θ         | -1   | 1   |
    | 3   | ẋ (m/s)      | -Inf | Inf |
    | 4   | θ̇ (rad/s)    | -Inf | Inf |

    The raw state (x, θ, ẋ, θ̇), unwrapped, float64, is `env.unwrapped.state`.

    ## Rewards
    Swing-up: (1 − cos θ) / 2 per step: 1 upright, 0 hanging. Balance: +1 per step.

    ## Starting State
    Swing-up: (0, 0, 0, 0) (hanging at rest); balance: (0, π, 0, 0); each coordinate plus uniform noise in
    [−reset_noise, reset_noise]. `reset(options={"state": x0})` starts exactly at x0 = (x, θ, ẋ, θ̇).

    ## Episode End
    Termination: the cart leaves the rail, |x| > x_limit, or the pole spins faster than `max_speed` (8π rad/s
    by default) (both tasks), or (balance) |θ − π| (wrapped) exceeds `fall_angle`. Truncation: 500 steps
    (10 s; dt = 0.02 s, one RK4 step). A step whose state leaves the finite numbers (NaN, infinite or beyond
    ±1e10, or flagged by MuJoCo or Drake) raises `underact.errors.DivergenceError` on every backend; the
    environment never resets on its own.

    ## Reference controller
    `underact.envs.reference.reference_controller(env)`, from observations at dt = 0.02 s, over 100 seeded starts:
    balance, a sampled-data LQR: 500.0 ± 0.0 (every episode truncates at 500); swing-up, pole energy shaping with a
    cart term, then that LQR: 443.6 ± 5.2. Registered `reward_threshold`: 475 (balance), 430 (swing-up).

    ## Arguments
    `gymnasium.make("underact/CartPoleBalance-v0", backend="analytic", render_mode=None, actuator_gain=1.0,
    fall_angle=0.2, reset_noise=0.05, max_speed=8π, x_limit=2.4, width=64, height=64, follow=None, **params)`

    - `backend`: "analytic" (closed form + RK4, default, fastest), "drake" (RK4 on the Drake plant's terms;
      Drake's shipped model, so only `u_limit` may change) or "mujoco" (`mj_step`, RK4 integrator).
    - `params`: physical parameters (`underact.plants.analytic.CartPoleParams`): mc, mp (kg), l (m), b_x (N·s/m),
      b_theta (N·m·s), gravity (m/s²), u_limit (N). In the vector environment each (but u_limit) may also be a
      sequence with one value per copy. mc, mp, l and u_limit must lie in [1e-6, 1e6], the rest in [0, 1e6]
      (`underact.plants.analytic.make_params`); anything else is a ValueError.
    - `actuator_gain`: the fraction of the commanded force the motor delivers (1 healthy, 0.5 damaged).
    - `width`, `height`: frame size in pixels for `render_mode="rgb_array"`; the whole rail is in view, the rail
      at mid-height.
    - `follow`: None (default: the whole rail in view) or a view width in metres for a camera that follows the
      cart: the pin at the image centre, `width / follow` pixels per metre; the rail's ticks (every 0.3 m) show
      the cart's motion, its ends where the cart is once they come into view.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(
        self,
        task: str = "swingup",
        backend: str = "analytic",
        render_mode: str | None = None,
        actuator_gain: float = 1.0,
        fall_angle: float = 0.2,
        reset_noise: float = 0.05,
        max_speed: float = MAX_SPEED,
        x_limit: float = 2.4,
        width: int = 64,
        height: int = 64,
        follow: float | None = None,
        **params: float,
    ):
        system = CartPoleSystem(
            make_params(CartPoleParams, params, per_copy=True),
            task,
            fall_angle,
            reset_noise,
            max_speed,
            x_limit,
            follow,
        )
        super().__init__(system, backend, params, render_mode, actuator_gain, width, height)
