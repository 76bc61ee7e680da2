"""The Furuta pendulum (rotary inverted pendulum): a motor turns an arm in the horizontal plane, a pendulum swings
freely on a pin at the arm's end, about the arm's axis.

Closed form: the general form with full inertia tensors of Cazzolato & Prime, "On the dynamics of the Furuta
pendulum", Journal of Control Science and Engineering (2011), each link's tensor diagonal in its own frame (the
paper's principal axes). q = (θ1, θ2): θ1 the arm's angle about the vertical z axis, θ2 the pendulum's angle about
the arm's axis x, 0 hanging, π upright. With Ĵ0 = J1zz + m1 l1² + m2 L1² + J2zz, β = m2 l2² + J2yy − J2zz,
h = m2 L1 l2 and Ĵ2 = J2xx + m2 l2²:

    M  = [[Ĵ0 + β sin²θ2,  h cos θ2], [h cos θ2,  Ĵ2]]
    Cv = [2 β sin θ2 cos θ2 θ̇1 θ̇2 − h sin θ2 θ̇2²,  −β sin θ2 cos θ2 θ̇1²]
    τg = [0, −m2 g l2 sin θ2],   B = [1, 0]ᵀ,   damping −(b1 θ̇1, b2 θ̇2)

(J1xx and J1yy do not enter: the arm turns about z only; they are in the engines' models.) The arm's J1zz and
the pendulum's J2xx, J2yy, J2zz are about the links' centres of mass, l1 and l2 the centres' distances from the
joints, L1 the arm's length (the pendulum's pin) and L2 the pendulum's (drawing and reward only).

Defaults: Quanser's QUBE-Servo 2 (its user manual's published values): arm 0.095 kg and 0.085 m, pendulum
0.024 kg and 0.129 m, uniform rods (J = m L² / 12 across, centres at mid-length; the small axial inertias of 3 mm
and 4.5 mm radius cylinders); no damping. **The input is the motor's torque in N·m**, not its voltage: the QUBE's
motor (8.4 Ω, 0.042 N·m/A) gives τ = 0.042 (V − 0.042 θ̇1) / 8.4, so a voltage controller is u = τ with an added
arm damping of 0.042² / 8.4 = 2.1e-4 N·m·s; u_limit = 0.05 N·m is the stall torque of a 10 V command.

Models: MuJoCo (`mujoco.MjSpec`) and Drake (an SDF text, `sdf(params)`) are built from the same parameters, so
every parameter may be overridden on every backend; `underact crosscheck furuta` compares the three.

Control: Åström & Furuta, "Swinging up a pendulum by energy control", Automatica 36 (2000): the arm's acceleration
θ̈1 = sat(k (E − E_d) sign(θ̇2 cos θ2)) pumps the pendulum's energy E = ½ Ĵ2 θ̇2² + m2 g l2 (1 − cos θ2) to its
upright value E_d = 2 m2 g l2 (the passive row gives Ė = −h cos θ2 θ̇2 θ̈1 up to the arm's speed term), realised
with collocated partial feedback linearisation; an LQR balances at the top.

Environments `underact/FurutaSwingUp-v0` and `underact/FurutaBalance-v0` (`underact.envs.base.SystemEnv`): the
observation (cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2), the torque in ±u_limit as the action, dt = 0.01 s (two RK4
steps of 5 ms), 500 steps (5 s). Swing-up: hanging start, reward (1 − cos θ2) / 2 per step; balance: upright
start, reward 1 per step, the episode ends when |θ2 − π| (wrapped) exceeds fall_angle (0.3 rad). Both end when a
joint spins faster than max_speed (20π rad/s). The reference controllers (`underact.envs.reference`) return, over
100 seeded starts, 441.0 ± 4.3 (swing-up; the worst 423.8) and 500.0 ± 0.0 (balance); registered
`reward_threshold` 400 and 475.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import ClassVar

import numpy as np

from underact.control.lqr import saturate
from underact.control.swingup import CartPoleSwingUp
from underact.plants.trig import select, sincos
from underact.render import Scene
from underact.systems.base import GRAVITY, System, TaskDefaults, TwoDofPlant, observe_angles, solve2, unobserve_angles


@dataclass(frozen=True)
class FurutaParams:
    """Masses m, arm and pendulum lengths L, centre-of-mass distances l, principal inertias about the centres J
    (x along the arm / the pin, z up the arm's turning axis / along the pendulum), damping b; SI units."""

    SYSTEM: ClassVar[str] = "furuta"
    POSITIVE: ClassVar[frozenset] = frozenset(
        {"m1", "m2", "L1", "L2", "J1xx", "J1yy", "J1zz", "J2xx", "J2yy", "J2zz", "u_limit"}
    )

    m1: float = 0.095
    L1: float = 0.085
    l1: float = 0.0425
    J1xx: float = 0.5 * 0.095 * 0.003**2
    J1yy: float = 0.095 * 0.085**2 / 12
    J1zz: float = 0.095 * 0.085**2 / 12
    m2: float = 0.024
    L2: float = 0.129
    l2: float = 0.0645
    J2xx: float = 0.024 * 0.129**2 / 12
    J2yy: float = 0.024 * 0.129**2 / 12
    J2zz: float = 0.5 * 0.024 * 0.0045**2
    b1: float = 0.0
    b2: float = 0.0
    gravity: float = GRAVITY
    u_limit: float = 0.05


def furuta_constants(p: FurutaParams) -> tuple:
    """(Ĵ0, β, h, Ĵ2, m2 g l2, b1, b2) (see the module docstring): floats, or arrays per copy."""
    J0 = p.J1zz + p.m1 * p.l1**2 + p.m2 * p.L1**2 + p.J2zz
    beta = p.m2 * p.l2**2 + p.J2yy - p.J2zz
    return J0, beta, p.m2 * p.L1 * p.l2, p.J2xx + p.m2 * p.l2**2, p.m2 * p.gravity * p.l2, p.b1, p.b2


def furuta_terms(q1, q2, v1, v2, c):
    """Cazzolato & Prime (2011): (M11, M12, M22, Cv1, Cv2, τg1, τg2) of the Furuta pendulum; B = [1, 0]ᵀ."""
    J0, beta, h, J2, g2 = c[0], c[1], c[2], c[3], c[4]
    s, co = sincos(q2)
    bsc, hs = beta * s * co, h * s
    return J0 + beta * s * s, h * co, J2, 2.0 * bsc * v1 * v2 - hs * v2 * v2, -bsc * v1 * v1, 0.0 * q1, -g2 * s


def furuta_coriolis(q1, q2, v1, v2, c):
    """C in Christoffel form (C11, C12, C21, C22) = (β s c θ̇2, β s c θ̇1 − h s θ̇2, −β s c θ̇1, 0): M depends on θ2
    only, ∂M11/∂θ2 = 2 β s c and ∂M12/∂θ2 = −h s, so Ṁ − 2C is skew-symmetric."""
    s, co = np.sin(q2), np.cos(q2)
    bsc = c[1] * s * co
    return bsc * v2, bsc * v1 - c[2] * s * v2, -bsc * v1, 0.0 * v1


def furuta_vdot(q1, q2, v1, v2, u, c):
    """(θ̈1, θ̈2) = M⁻¹(τg − Cv − b ⊙ θ̇ + B u), u the motor's torque on the arm."""
    m11, m12, m22, cv1, cv2, tg1, tg2 = furuta_terms(q1, q2, v1, v2, c)
    return solve2(m11, m12, m22, tg1 - cv1 - c[5] * v1 + u, tg2 - cv2 - c[6] * v2)


def furuta_points(L1, L2, q1, q2) -> tuple:
    """Forward kinematics: the arm's end and the pendulum's tip (x, y, z) in metres, z up; q = 0 hangs down."""
    s1, c1 = sincos(q1)
    s2, c2 = sincos(q2)
    pin_x, pin_y = L1 * c1, L1 * s1
    return pin_x, pin_y, 0.0 * q1, pin_x - L2 * s2 * s1, pin_y + L2 * s2 * c1, -L2 * c2


class FurutaPlant(TwoDofPlant):
    """The Furuta pendulum, arm driven, pendulum passive. q = (θ1, θ2), θ2 = 0 hanging, π upright."""

    _B = [[1.0], [0.0]]
    _vdot_parts = staticmethod(furuta_vdot)
    _parts = staticmethod(furuta_terms)
    _coriolis_parts = staticmethod(furuta_coriolis)

    def __init__(self, params: FurutaParams | None = None):
        self.params = p = params or FurutaParams()
        self.constants = furuta_constants(p)
        self._set_common("furuta", ["theta1", "theta2"], ["theta1"], [p.b1, p.b2], p.u_limit, [0.0, np.pi],
                         [True, True])

    def _potential(self, q):
        p = self.params
        return p.m2 * p.gravity * p.l2 * (1 - np.cos(q[:, 1]))


def furuta_spec(p: FurutaParams):
    """MuJoCo: the arm on a hinge about z (motor) with its centre at (l1, 0, 0), the pendulum on a hinge about the
    arm's x at (L1, 0, 0) with its centre at (0, 0, −l2); principal inertias in the bodies' frames."""
    from underact.engines.mujoco import mujoco
    from underact.plants.builtin_mjcf import RED, motor, new_spec

    spec = new_spec("furuta", p.gravity)
    hinge = mujoco.mjtJoint.mjJNT_HINGE
    arm = spec.worldbody.add_body(name="arm")
    arm.add_joint(name="theta1", type=hinge, axis=[0, 0, 1], damping=p.b1)
    arm.explicitinertial, arm.mass, arm.ipos, arm.inertia = True, p.m1, [p.l1, 0, 0], [p.J1xx, p.J1yy, p.J1zz]
    arm.add_geom(type=mujoco.mjtGeom.mjGEOM_CAPSULE, fromto=[0, 0, 0, p.L1, 0, 0], size=[0.006, 0, 0])
    pendulum = arm.add_body(name="pendulum", pos=[p.L1, 0, 0])
    pendulum.add_joint(name="theta2", type=hinge, axis=[1, 0, 0], damping=p.b2)
    pendulum.explicitinertial, pendulum.mass = True, p.m2
    pendulum.ipos, pendulum.inertia = [0, 0, -p.l2], [p.J2xx, p.J2yy, p.J2zz]
    pendulum.add_geom(type=mujoco.mjtGeom.mjGEOM_CAPSULE, fromto=[0, 0, 0, 0, 0, -p.L2], size=[0.0045, 0, 0],
                      rgba=RED)
    motor(spec, "theta1")
    return spec


def sdf(p: FurutaParams) -> str:
    """The SDF description of the same model (Drake's, and `underact view`'s). Every value is a float already
    checked by `make_params`, written with `repr`: no text of a user's reaches the XML."""

    def inertial(pose: str, m: float, J: tuple) -> str:
        return (f"<inertial><pose>{pose} 0 0 0</pose><mass>{m!r}</mass><inertia><ixx>{J[0]!r}</ixx><iyy>{J[1]!r}"
                f"</iyy><izz>{J[2]!r}</izz><ixy>0</ixy><ixz>0</ixz><iyz>0</iyz></inertia></inertial>")

    def visual(pose: str, length: float, radius: float) -> str:
        return (f"<visual name='v'><pose>{pose}</pose><geometry><cylinder><radius>{radius!r}</radius>"
                f"<length>{length!r}</length></cylinder></geometry></visual>")

    def joint(name: str, parent: str, child: str, axis: str, damping: float, effort: float) -> str:
        return (f"<joint name='{name}' type='revolute'><parent>{parent}</parent><child>{child}</child><axis>"
                f"<xyz>{axis}</xyz><dynamics><damping>{damping!r}</damping></dynamics><limit><effort>{effort!r}"
                "</effort></limit></axis></joint>")

    arm_visual = visual(f"{p.L1 / 2!r} 0 0 0 1.5707963267948966 0", p.L1, 0.006)
    pendulum_visual = visual(f"0 0 {-p.L2 / 2!r} 0 0 0", p.L2, 0.0045)
    return (
        "<?xml version='1.0'?><sdf version='1.7'><model name='furuta'>"
        f"<link name='arm'>{inertial(f'{p.l1!r} 0 0', p.m1, (p.J1xx, p.J1yy, p.J1zz))}{arm_visual}</link>"
        f"<link name='pendulum'><pose>{p.L1!r} 0 0 0 0 0</pose>"
        f"{inertial(f'0 0 {-p.l2!r}', p.m2, (p.J2xx, p.J2yy, p.J2zz))}{pendulum_visual}</link>"
        f"{joint('theta1', 'world', 'arm', '0 0 1', p.b1, p.u_limit)}"
        f"{joint('theta2', 'arm', 'pendulum', '1 0 0', p.b2, 0.0)}"  # effort 0: Drake adds no actuator
        "</model></sdf>"
    )


def _set_gravity(mbp, gravity: float) -> None:
    mbp.mutable_gravity_field().set_gravity_vector([0.0, 0.0, -gravity])


def drake_plant(p: FurutaParams, overridden: bool = False):
    """Drake's plant of `sdf(p)`, gravity set from the parameters."""
    from underact.plants.drake import DrakePlant

    plant = DrakePlant.from_string(sdf(p), "sdf", "furuta", prepare=partial(_set_gravity, gravity=p.gravity))
    plant.u_limit = np.array([p.u_limit])
    return plant


def drake_file(p: FurutaParams) -> Path:
    """`sdf(p)` as a file (`underact view` reads files): one per parameter set in the temporary folder, named by
    its text's hash, written atomically and reused."""
    import hashlib

    from underact.files import replacing

    text = sdf(p)
    path = Path(tempfile.gettempdir()) / f"underact-furuta-{hashlib.sha256(text.encode()).hexdigest()[:16]}.sdf"
    if not path.is_file() or path.read_text() != text:
        with replacing(path) as tmp:
            Path(tmp).write_text(text)
    return path


def pinocchio_plant(p: FurutaParams):
    """Pinocchio's model from the same parameters."""
    import pinocchio as pin

    from underact.plants.pinocchio import PinocchioPlant

    model = pin.Model()
    arm = model.addJoint(0, pin.JointModelRZ(), pin.SE3.Identity(), "theta1")
    model.appendBodyToJoint(arm, pin.Inertia(p.m1, np.array([p.l1, 0, 0]), np.diag([p.J1xx, p.J1yy, p.J1zz])),
                            pin.SE3.Identity())
    pendulum = model.addJoint(arm, pin.JointModelRX(), pin.SE3(np.eye(3), np.array([p.L1, 0, 0])), "theta2")
    model.appendBodyToJoint(pendulum, pin.Inertia(p.m2, np.array([0, 0, -p.l2]), np.diag([p.J2xx, p.J2yy, p.J2zz])),
                            pin.SE3.Identity())
    return PinocchioPlant.from_model(model, "furuta", [p.b1, p.b2], [("theta1", {"theta1": 1.0}, p.u_limit)],
                                     p.gravity)


class FurutaScene(Scene):
    """The base's post, the arm, the pendulum and its pin, seen from the front and a little above (an oblique
    projection: a point (x, y, z) is drawn at (x − 0.45 y, z − 0.3 y), so the arm swinging towards the viewer
    moves down and left)."""

    radii = np.array([2.2, 1.8, 1.4, 0.9])
    colors = np.array([[90, 90, 90], [40, 90, 200], [205, 75, 50], [30, 30, 30]], dtype=np.float32)

    def __init__(self, L1, L2):
        self.L1, self.L2 = L1, L2  # floats, or one value per copy
        reach = 1.2 * float(np.max(L1 + L2))
        self.span = (2 * reach, 2 * reach)

    def segments(self, q):
        px, py, pz, tx, ty, tz = furuta_points(self.L1, self.L2, q[:, 0], q[:, 1])
        n = len(q)

        def drawn(x, y, z):
            return np.stack(np.broadcast_arrays(x - 0.45 * y, z - 0.3 * y), axis=-1) * np.ones((n, 1))

        origin, post = drawn(0.0, 0.0, 0.0), drawn(0.0, 0.0, -0.6 * float(np.max(self.L2)))
        pin, tip = drawn(px, py, pz), drawn(tx, ty, tz)
        return np.stack(
            [np.stack([post, origin], 1), np.stack([origin, pin], 1), np.stack([pin, tip], 1), np.stack([pin, pin], 1)],
            axis=1,
        )


def furuta_scene(p, **options) -> FurutaScene:
    return FurutaScene(p.L1, p.L2)


class FurutaSwingUp(CartPoleSwingUp):
    """Åström & Furuta (2000): the arm's acceleration θ̈1 = sat_a(ke (E − E_d) sign(θ̇2 cos θ2)) − kp θ1 − kd θ̇1,
    realised by collocated PFL and saturated at u_limit.

    E is the pendulum's energy seen from the arm (the arm's speed zeroed, as the cart-pole's pole energy:
    `CartPoleSwingUp.energy_error`), E_d its value at rest upright; the PD
    term keeps the arm near its start. `a_max` is the acceleration bound the paper writes as n g (here in rad/s² of
    the arm). Defaults, tuned on the closed form and at the environments' 100 Hz (upright in 1.1 s from the hanging
    start): ke = 20000 (E in joules: the pump saturates unless |E − E_d| < 7.5 mJ), a_max = 150 rad/s², kp = 20, kd = 4.
    """

    def __init__(self, plant, ke: float = 20000.0, kp: float = 20.0, kd: float = 4.0, a_max: float = 150.0,
                 u_limit=None):
        super().__init__(plant, ke, kp, kd, u_limit)
        self.a_max = float(a_max)

    def __call__(self, t: float, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        q, v = np.asarray(q, dtype=np.float64), np.asarray(v, dtype=np.float64)
        terms = self.plant.terms(q, v)
        pump = self.ke * self.energy_error(q, v, terms.M) * np.sign(v[..., 1] * np.cos(q[..., 1]))
        qdd_a = np.clip(pump, -self.a_max, self.a_max)[..., None] + self._pd(q, v)
        return saturate(self._pfl(terms, v, qdd_a), self.u_limit)


def swing_up(plant, u_limit) -> FurutaSwingUp:
    return FurutaSwingUp(plant, u_limit=u_limit)


#: The observation's entries, (cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2), and their inverse.
observe, unobserve = observe_angles, unobserve_angles


def outcome(q1, q2, v1, v2, k) -> tuple:
    """(reward, terminated) with k = (balance, max_speed, cos fall_angle): swing-up (1 − cos θ2) / 2; balance 1,
    and the episode also ends when cos(θ2 − π) = −cos θ2 < cos(fall_angle); both end when a joint spins faster
    than max_speed."""
    cos2, balance = sincos(q2)[1], k[0] > 0.0
    spinning = (np.abs(v1) > k[1]) | (np.abs(v2) > k[1])
    return select(balance, 1.0, 0.5 * (1.0 - cos2)), spinning | (balance & (-cos2 < k[2]))


def outcome_constants(task) -> tuple:
    return float(task.goal == "balance"), task.max_speed, np.cos(min(task.fall_angle, np.pi))


SYSTEM = System(
    name="furuta",
    params=FurutaParams,
    plant=FurutaPlant,
    constants=furuta_constants,
    vdot=furuta_vdot,
    mujoco_spec=furuta_spec,
    drake_plant=drake_plant,
    drake_file=drake_file,
    pinocchio_plant=pinocchio_plant,
    drake_takes_params=True,
    scene=furuta_scene,
    jit=(observe, outcome),
    jit_inline=(furuta_terms, furuta_vdot),
    swing_up=swing_up,
    switch=2.0,
    # Torques of hundredths of a N·m: R = 1e4 gives gains of that size (K ≈ [−0.03, 0.40, −0.02, 0.04]); the arm's
    # angle weighs little, so the switch lets the arm be where the swing-up left it.
    lqr={"Q": np.diag([1.0, 10.0, 0.1, 0.1]), "R": np.array([[1e4]])},
    task=TaskDefaults(
        dt=0.01, substeps=2, trig_obs=(True, True, True, True, False, False), n_position_obs=4, observe=observe,
        unobserve=unobserve, outcome=outcome, outcome_constants=outcome_constants, fall_angle=0.3,
        max_speed=20 * np.pi, title="Furuta",
    ),
    doc=__doc__,
)
