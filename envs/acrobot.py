"""The acrobot environments: `underact/AcrobotSwingUp-v0` and `underact/AcrobotBalance-v0`."""

from __future__ import annotations

from underact.envs.base import UnderactEnv
from underact.envs.settings import arguments_doc, settings_class
from underact.envs.task import SystemTask
from underact.systems.acrobot import SYSTEM, AcrobotParams, observe, outcome  # noqa: F401 - re-exported


class AcrobotTask(SystemTask):
    """Spong's acrobot (`underact.systems.acrobot`), q = (θ1, θ2), θ2 relative: its task reads the record."""

    name = "acrobot"


#: The acrobot environments' arguments (single and vector): `EnvSettings` with the record's task defaults.
AcrobotSettings = settings_class(SYSTEM, AcrobotTask, module=__name__)

#: The physical parameters' paragraph of the manual's Arguments.
PARAMS_DOC = (
    "physical parameters (`underact.plants.analytic.AcrobotParams`): m1, m2 (kg), l1, l2, lc1, lc2 (m), Ic1, Ic2 "
    "(kg·m², about the centres of mass), b1, b2 (N·m·s), gravity (m/s²), u_limit (N·m). They are independent: to "
    "stretch a link, scale its l, lc and Ic together. In the vector environment each (but u_limit) may also be a "
    "sequence with one value per copy. Masses, lengths, Ic and u_limit must lie in [1e-6, 1e6], the rest in "
    "[0, 1e6] (`underact.plants.analytic.make_params`); anything else is a ValueError. Frames show the shoulder "
    "at the centre."
)


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

    The arguments below are `AcrobotSettings`'s, shared with `AcrobotVectorEnv`, and written there once.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 20}

    Settings = AcrobotSettings


AcrobotEnv.__doc__ += arguments_doc(AcrobotSettings, "underact/AcrobotSwingUp-v0", PARAMS_DOC)
