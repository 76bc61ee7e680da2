"""The cart-pole environments: `underact/CartPoleSwingUp-v0` and `underact/CartPoleBalance-v0`."""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

from underact.envs.base import UnderactEnv
from underact.envs.task import MAX_SPEED, Task, fused_kernels
from underact.plants.analytic import CartPoleParams, cartpole_vdot, make_params
from underact.plants.trig import select, sincos
from underact.render import CartPoleScene, View


def observe(x, theta, xd, thetad) -> tuple:
    """The observation's entries: (x, cos θ, sin θ, ẋ, θ̇)."""
    s, c = sincos(theta)
    return x, c, s, xd, thetad


def outcome(x, theta, xd, thetad, k) -> tuple:
    """(reward, terminated) with k = (balance, max_speed, cos fall_angle, x_limit).

    Swing-up: reward (1 − cos θ) / 2; balance: 1, and the episode also ends when |θ − π| (wrapped to [−π, π])
    exceeds fall_angle, i.e. when cos(θ − π) = −cos θ < cos(fall_angle) (no angle wrapping, so no branch).
    Both end when the cart leaves the rail (|x| > x_limit) or the pole spins faster than max_speed.
    """
    cos_theta, balance = sincos(theta)[1], k[0] > 0.0
    ended = (np.abs(thetad) > k[1]) | (np.abs(x) > k[3])
    return select(balance, 1.0, 0.5 * (1.0 - cos_theta)), ended | (balance & (-cos_theta < k[2]))


for function in (observe, outcome):
    register_jitable(function)


compiled_batch, compiled_step, compiled_advance = fused_kernels(cartpole_vdot, observe, outcome)


class CartPoleTask(Task):
    """The cart-pole (`underact.plants.analytic.cartpole_vdot`), q = (x, θ), θ = 0 hanging; the cart must stay
    within ±x_limit."""

    name = "cartpole"
    compiled_batch = staticmethod(compiled_batch)
    compiled_step = staticmethod(compiled_step)
    compiled_advance = staticmethod(compiled_advance)
    dt = 0.02
    substeps = 1
    obs_dim = 5
    n_position_obs = 3
    trig_obs = np.array([False, True, True, False, False])
    upright = np.array([0.0, np.pi])
    q_rest = np.zeros(2)
    angular_mask = np.array([False, True])

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
        if not (np.isfinite(x_limit) and x_limit > 0):
            raise ValueError(f"x_limit must be a positive number of metres; got {x_limit!r}")
        if follow is not None and not (np.isfinite(follow) and follow > 0):
            raise ValueError(f"follow must be None or a positive view width in metres; got {follow!r}")
        self.x_limit = float(x_limit)
        self.follow = None if follow is None else float(follow)
        super().__init__(params, task, fall_angle, reset_noise, max_speed)

    def make_scene(self):
        # The rail's ticks show the cart's motion even when a following camera keeps the cart centred.
        return CartPoleScene(self.params.l, self.x_limit)

    def task_constants(self):
        return float(self.goal == "balance"), self.max_speed, np.cos(min(self.fall_angle, np.pi)), self.x_limit

    def components(self, x):
        q1, q2, v1, v2 = x[:, 0], x[:, 1], x[:, 2], x[:, 3]
        return observe(q1, q2, v1, v2), outcome(q1, q2, v1, v2, self.task_constants())

    def segments(self, x, fixed_camera=False):
        segments = self.scene.segments(x)
        if self.follow is not None and not fixed_camera:  # a camera riding with the cart: the world moves by -x
            segments[..., 0] -= x[:, 0, None, None]
        return segments

    def view(self, width, height, fixed_camera=False):
        if self.follow is not None and not fixed_camera:
            return View((0.0, 0.0), width / self.follow, width, height)
        return self.scene.view(width, height)


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
        env_task = CartPoleTask(
            make_params(CartPoleParams, params, per_copy=True),
            task,
            fall_angle,
            reset_noise,
            max_speed,
            x_limit,
            follow,
        )
        super().__init__(env_task, backend, params, render_mode, actuator_gain, width, height)
