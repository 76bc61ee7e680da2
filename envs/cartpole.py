"""The cart-pole environments: `underact/CartPoleSwingUp-v0` and `underact/CartPoleBalance-v0`."""

from __future__ import annotations

import numpy as np

from underact.envs.base import UnderactEnv
from underact.envs.settings import arguments_doc, setting, settings_class
from underact.envs.task import SystemTask
from underact.render import View
from underact.systems.cartpole import SYSTEM, CartPoleParams, observe, outcome  # noqa: F401 - re-exported


class CartPoleTask(SystemTask):
    """The cart-pole (`underact.systems.cartpole`), q = (x, θ), θ = 0 hanging; the cart must stay within ±x_limit,
    and a camera may follow it (`follow`)."""

    name = "cartpole"

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
        # The rail's ticks show the cart's motion even when a following camera keeps the cart centred.
        super().__init__(params, task, fall_angle, reset_noise, max_speed, x_limit=self.x_limit)

    def segments(self, x, fixed_camera=False):
        segments = self.scene.segments(x)
        if self.follow is not None and not fixed_camera:  # a camera riding with the cart: the world moves by -x
            segments[..., 0] -= x[:, 0, None, None]
        return segments

    def view(self, width, height, fixed_camera=False):
        if self.follow is not None and not fixed_camera:
            return View((0.0, 0.0), width / self.follow, width, height)
        return self.scene.view(width, height)


#: The cart-pole environments' arguments (single and vector): `EnvSettings` with the record's task defaults, and
#: the rail's length and the camera.
CartPoleSettings = settings_class(
    SYSTEM,
    CartPoleTask,
    (
        ("x_limit", float, setting(2.4, "metres: the cart leaving ±x_limit ends the episode (both tasks).")),
        (
            "follow",
            float | None,
            setting(
                None,
                "None (the whole rail in view, at mid-height) or a view width in metres for a camera that follows "
                "the cart: the pin at the image centre, `width / follow` pixels per metre; the rail's ticks (every "
                "0.3 m) show the cart's motion, its ends where the cart is once they come into view.",
            ),
        ),
    ),
    module=__name__,
)

#: The physical parameters' paragraph of the manual's Arguments.
PARAMS_DOC = (
    "physical parameters (`underact.plants.analytic.CartPoleParams`): mc, mp (kg), l (m), b_x (N·s/m), b_theta "
    "(N·m·s), gravity (m/s²), u_limit (N). In the vector environment each (but u_limit) may also be a sequence "
    "with one value per copy. mc, mp, l and u_limit must lie in [1e-6, 1e6], the rest in [0, 1e6] "
    "(`underact.plants.analytic.make_params`); anything else is a ValueError."
)


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

    The arguments below are `CartPoleSettings`'s, shared with `CartPoleVectorEnv`, and written there once.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    Settings = CartPoleSettings


CartPoleEnv.__doc__ += arguments_doc(CartPoleSettings, "underact/CartPoleBalance-v0", PARAMS_DOC)
