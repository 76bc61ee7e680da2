"""The acrobot: two links in a vertical plane, a passive shoulder and a motor at the elbow (Spong's acrobot).

Tedrake, "Underactuated Robotics" (2023), ch. 3.1; q = (θ1, θ2), θ2 relative to the first link, q = 0 hanging.
Default parameters are those of Drake's `examples/acrobot/Acrobot.urdf`, which is also its Drake model. The
environments `underact/AcrobotSwingUp-v0` and `underact/AcrobotBalance-v0` (`underact.envs.acrobot`); their
reference controllers return 438.0 ± 86.6 (swing-up) and 500.0 ± 0.0 (balance) over 100 seeded starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from underact.plants.trig import select, sin, sincos
from underact.systems.base import GRAVITY, System, TaskDefaults, TwoDofPlant, observe_angles, solve2, unobserve_angles


@dataclass(frozen=True)
class AcrobotParams:
    """Link masses m, lengths l, centre-of-mass distances lc, inertias about the centres Ic, damping b."""

    SYSTEM: ClassVar[str] = "acrobot"
    POSITIVE: ClassVar[frozenset] = frozenset({"m1", "m2", "l1", "l2", "Ic1", "Ic2", "u_limit"})

    m1: float = 1.0
    m2: float = 1.0
    l1: float = 1.0
    l2: float = 2.0
    lc1: float = 0.5
    lc2: float = 1.0
    Ic1: float = 0.083
    Ic2: float = 0.33
    b1: float = 0.1
    b2: float = 0.1
    gravity: float = GRAVITY
    u_limit: float = 20.0


def acrobot_constants(p: AcrobotParams) -> tuple:
    """(I2, M11 at θ2 = π/2, m2 l1 lc2, (m1 lc1 + m2 l1) g, m2 lc2 g, b1, b2): floats, or arrays per copy."""
    I2 = p.Ic2 + p.m2 * p.lc2**2  # inertia of link 2 about the elbow
    M11_0 = p.Ic1 + p.m1 * p.lc1**2 + I2 + p.m2 * p.l1**2
    g1, g2 = (p.m1 * p.lc1 + p.m2 * p.l1) * p.gravity, p.m2 * p.lc2 * p.gravity
    return I2, M11_0, p.m2 * p.l1 * p.lc2, g1, g2, p.b1, p.b2


def acrobot_terms(q1, q2, v1, v2, c):
    """Tedrake ch. 3.1: (M11, M12, M22, Cv1, Cv2, τg1, τg2) of the acrobot; B = [0, 1]ᵀ.

    M = [[I1 + I2 + m2 l1² + 2 m2 l1 lc2 c2,  I2 + m2 l1 lc2 c2], [I2 + m2 l1 lc2 c2,  I2]]
    Cv = [−2 m2 l1 lc2 s2 θ̇1 θ̇2 − m2 l1 lc2 s2 θ̇2²,  m2 l1 lc2 s2 θ̇1²]
    τg = [−m1 g lc1 s1 − m2 g (l1 s1 + lc2 s12),  −m2 g lc2 s12]
    """
    I2, M11_0, h, g1, g2 = c[0], c[1], c[2], c[3], c[4]
    s2, c2 = sincos(q2)
    hc2, hs2 = h * c2, h * s2
    tg2 = -g2 * sin(q1 + q2)
    return M11_0 + 2.0 * hc2, I2 + hc2, I2, -hs2 * v2 * (2.0 * v1 + v2), hs2 * v1 * v1, tg2 - g1 * sin(q1), tg2


def acrobot_coriolis(q2, v1, v2, c):
    """The acrobot's C in Christoffel form, (C11, C12, C21, C22), so that Ṁ − 2C is skew-symmetric.

    With h = m2 l1 lc2 and M depending on θ2 only (∂M11/∂θ2 = −2 h s2, ∂M12/∂θ2 = −h s2),
    Γ_ijk = ½(∂M_ij/∂q_k + ∂M_ik/∂q_j − ∂M_jk/∂q_i) gives C = h s2 [[−θ̇2, −(θ̇1 + θ̇2)], [θ̇1, 0]]. Tedrake's
    printed C = h s2 [[−2 θ̇2, −θ̇2], [θ̇1, 0]] has the same C v but is not skew-compatible.
    """
    hs2 = c[2] * np.sin(q2)
    return -hs2 * v2, -hs2 * (v1 + v2), hs2 * v1, 0.0 * v1


def acrobot_vdot(q1, q2, v1, v2, u, c):
    """(θ̈1, θ̈2) = M⁻¹(τg − Cv − b ⊙ θ̇ + B u), u the elbow torque."""
    m11, m12, m22, cv1, cv2, tg1, tg2 = acrobot_terms(q1, q2, v1, v2, c)
    return solve2(m11, m12, m22, tg1 - cv1 - c[5] * v1, tg2 - cv2 - c[6] * v2 + u)


def acrobot_points(l1, l2, q1, q2) -> tuple:
    """Forward kinematics: elbow (x, y) and tip (x, y) in metres from the shoulder, y up; q = 0 hangs down."""
    s1, c1 = sincos(q1)
    s12, c12 = sincos(q1 + q2)
    elbow_x, elbow_y = l1 * s1, -l1 * c1
    return elbow_x, elbow_y, elbow_x + l2 * s12, elbow_y - l2 * c12


class AcrobotPlant(TwoDofPlant):
    """Two-link planar arm, shoulder passive, elbow actuated (Spong's acrobot). q = (θ1, θ2), θ2 relative."""

    _B = [[0.0], [1.0]]
    _vdot_parts = staticmethod(acrobot_vdot)
    _parts = staticmethod(acrobot_terms)

    def __init__(self, params: AcrobotParams | None = None):
        self.params = p = params or AcrobotParams()
        self.constants = acrobot_constants(p)
        self._set_common("acrobot", ["shoulder", "elbow"], ["elbow"], [p.b1, p.b2], p.u_limit, [np.pi, 0.0],
                         [True, True])

    @staticmethod
    def _coriolis_parts(q1, q2, v1, v2, c):
        return acrobot_coriolis(q2, v1, v2, c)

    def _potential(self, q):
        p = self.params
        c1, c12 = np.cos(q[:, 0]), np.cos(q[:, 0] + q[:, 1])
        # Heights relative to the shoulder are −lc1 cos θ1 and −l1 cos θ1 − lc2 cos(θ1+θ2); zero when hanging.
        return p.gravity * (p.m1 * p.lc1 * (1 - c1) + p.m2 * (p.l1 * (1 - c1) + p.lc2 * (1 - c12)))


def acrobot_spec(p: AcrobotParams):
    """MuJoCo: shoulder (passive) and elbow (motor) hinges about y; inertias Ic about the centres of mass."""
    from underact.engines.mujoco import mujoco
    from underact.plants.builtin_mjcf import RED, capsule, link, motor, new_spec

    spec = new_spec("acrobot", p.gravity)
    hinge = mujoco.mjtJoint.mjJNT_HINGE
    upper = link(spec.worldbody, "upper_link", "shoulder", hinge, [0, 1, 0], p.b1, p.m1, p.lc1, [1.0, p.Ic1, 1.0])
    capsule(upper, p.l1, 0.04)
    lower = link(upper, "lower_link", "elbow", hinge, [0, 1, 0], p.b2, p.m2, p.lc2, [1.0, p.Ic2, 1.0])
    lower.pos = [0.0, 0.0, -p.l1]
    capsule(lower, p.l2, 0.04, RED)
    motor(spec, "elbow")
    return spec


#: Drake's model: the shipped example file (its parameters are the defaults; overrides go to analytic or mujoco).
DRAKE_FILE = "acrobot/Acrobot.urdf"


def drake_plant(p: AcrobotParams, overridden: bool = False):
    """Drake's shipped acrobot; the URDF carries no effort limit: the textbook's swing-up uses |u| ≤ 20."""
    from underact.plants.drake import shipped_builtin

    return shipped_builtin("acrobot", DRAKE_FILE, [np.pi, 0.0], p.u_limit)


def drake_file(p: AcrobotParams):
    from underact.plants.drake import drake_examples_dir

    return drake_examples_dir() / DRAKE_FILE


def pinocchio_plant(p: AcrobotParams):
    """Pinocchio's acrobot from the parameters: planar links turning about −y, hanging along −z."""
    from underact.plants.pinocchio import PinocchioPlant

    links = [("shoulder", "revolute", 0.0, p.m1, p.lc1, p.Ic1), ("elbow", "revolute", p.l1, p.m2, p.lc2, p.Ic2)]
    return PinocchioPlant.planar("acrobot", links, [p.b1, p.b2], "elbow", p.u_limit, p.gravity)


def acrobot_scene(p, **options):
    from underact.render import AcrobotScene

    return AcrobotScene(p.l1, p.l2)


#: The observation's entries, (cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2), and their inverse.
observe, unobserve = observe_angles, unobserve_angles


def outcome(q1, q2, v1, v2, k) -> tuple:
    """(reward, terminated) with k = (balance, max_speed, cos fall_angle, l1, l2); h = tip height / reach.

    Swing-up: reward (1 + h) / 2; balance: 1, and the episode also ends when h < cos(fall_angle): the elbow may
    bend as far as balancing needs (a sampled-data LQR swings it by up to 1.6 rad), but a folded or leaning
    acrobot is down. Both end when a joint spins faster than max_speed.
    """
    h, balance = acrobot_points(k[3], k[4], q1, q2)[3] / (k[3] + k[4]), k[0] > 0.0
    spinning = (np.abs(v1) > k[1]) | (np.abs(v2) > k[1])
    return select(balance, 1.0, 0.5 * (1.0 + h)), spinning | (balance & (h < k[2]))


def outcome_constants(task) -> tuple:
    p = task.params
    return float(task.goal == "balance"), task.max_speed, np.cos(task.fall_angle), p.l1, p.l2


def swing_up(plant, u_limit):
    """Spong's energy-shaping swing-up (`underact.control.swingup.AcrobotSwingUp`)."""
    from underact.control.swingup import AcrobotSwingUp

    return AcrobotSwingUp(plant, u_limit=u_limit)


SYSTEM = System(
    name="acrobot",
    params=AcrobotParams,
    plant=AcrobotPlant,
    constants=acrobot_constants,
    vdot=acrobot_vdot,
    mujoco_spec=acrobot_spec,
    drake_plant=drake_plant,
    drake_file=drake_file,
    pinocchio_plant=pinocchio_plant,
    scene=acrobot_scene,
    jit=(acrobot_points, observe, outcome),
    jit_inline=(acrobot_terms, acrobot_vdot),
    swing_up=swing_up,
    switch=200.0,  # tuned on the closed form: seeds 0..49 of the hanging start all reach upright within 12 s
    task=TaskDefaults(
        dt=0.05, substeps=2, trig_obs=(True, True, True, True, False, False), n_position_obs=4, observe=observe,
        unobserve=unobserve, outcome=outcome, outcome_constants=outcome_constants, fall_angle=1.0, title="Acrobot",
    ),
    doc=__doc__,
)
