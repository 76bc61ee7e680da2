"""`crosscheck` compares like with like (issue 24 item 5): coordinates matched by meaning where the engines name a
multi-DoF joint's coordinates differently (a URDF planar joint: Drake's x, y, qz / vx, vy, wz, MuJoCo's TX, TY, RZ),
and each engine's actuators compared with the description's, naming any an engine dropped."""

import json
import subprocess
import sys

import numpy as np
import pytest

from underact import load
from underact.crosscheck import (
    _order,
    _rpy,
    crosscheck,
    crosscheck_engines,
    description_actuators,
    dropped_actuators,
)
from underact.description.generate import mjcf_chain
from underact.errors import UnderactError
from underact.plants.base import quat_to_rot

_INERTIAL = (
    '<inertial><origin xyz="{com}"/><mass value="{m}"/>'
    '<inertia ixx="{i}" iyy="{i}" izz="{i}" ixy="0" ixz="0" iyz="0"/></inertial>'
)


def planar_urdf(normal: str) -> str:
    """A body on a planar joint (2 kg) carrying a pendulum (1 kg) whose hinge alone is driven."""
    return f"""<robot name="planar"><link name="world"/>
  <link name="sled">{_INERTIAL.format(com="0.1 0 -0.2", m=2, i=0.2)}</link>
  <link name="arm">{_INERTIAL.format(com="0 0 -0.5", m=1, i=0.1)}</link>
  <joint name="slide" type="planar"><parent link="world"/><child link="sled"/><axis xyz="{normal}"/></joint>
  <joint name="hinge" type="continuous"><parent link="sled"/><child link="arm"/><origin xyz="0 0 -1"/>
    <axis xyz="0 1 0"/></joint>
  <transmission name="t"><type>transmission_interface/SimpleTransmission</type>
    <joint name="hinge"><hardwareInterface>EffortJointInterface</hardwareInterface></joint>
    <actuator name="elbow"><mechanicalReduction>1</mechanicalReduction></actuator></transmission>
</robot>
"""


@pytest.fixture(params=["0 0 1", "0 1 0"], ids=["horizontal-plane", "vertical-plane"])
def planar(request, tmp_path):
    path = tmp_path / "planar.urdf"
    path.write_text(planar_urdf(request.param))
    return path, request.param


def test_names_differ_and_are_matched_by_meaning():
    drake = ["slide_vx", "slide_vy", "slide_wz", "hinge"]
    mujoco = ["hinge", "slide_TX", "slide_TY", "slide_RZ"]
    assert _order(drake, mujoco, "velocities").tolist() == [1, 2, 3, 0]
    positions = _order(["slide_x", "slide_y", "slide_qz"], ["slide_RZ", "slide_TX", "slide_TY"], "positions")
    assert positions.tolist() == [1, 2, 0]
    with pytest.raises(UnderactError, match="not by a joint and axis either"):
        _order(["slide_vx", "hinge"], ["slide_TY", "hinge"], "velocities")  # x is not y
    with pytest.raises(UnderactError, match="not by a joint and axis either"):
        _order(["a_vx", "b"], ["a_TX", "c"], "velocities")


def test_planar_joint_compares_and_agrees(planar):
    path, normal = planar
    drake, mujoco = load(str(path), "drake"), load(str(path), "mujoco")
    assert drake.velocity_names != mujoco.velocity_names  # the names really differ
    diffs = crosscheck(drake, mujoco, states=30, seed=2)
    assert [d.term for d in diffs] == ["M", "Cv", "tau_g", "B"] and all(d.ok for d in diffs), diffs
    # Closed form: the plane's two translations carry both bodies, M's translation block is (2 + 1)·I; in the
    # vertical plane gravity pulls (2 + 1)·9.81 N along the plane's vertical axis, and nothing in the horizontal one.
    rng = np.random.default_rng(0)
    for plant, (tx, ty) in ((drake, ("slide_vx", "slide_vy")), (mujoco, ("slide_TX", "slide_TY"))):
        t = [plant.velocity_names.index(n) for n in (tx, ty)]
        q = plant.random_q(rng, 5)
        terms = plant.terms(q, np.zeros((5, plant.nv)))
        np.testing.assert_allclose(terms.M[:, t][:, :, t], np.broadcast_to(3.0 * np.eye(2), (5, 2, 2)), atol=1e-12)
        pull = np.abs(terms.tau_g[:, t]).max(axis=1)
        np.testing.assert_allclose(pull, 3.0 * 9.81 if normal == "0 1 0" else 0.0, atol=1e-9)


def test_a_wrong_match_would_disagree(planar):
    """The matching carries the physics: swapping MuJoCo's TX and TY names makes the check fail."""
    path, _ = planar
    drake, mujoco = load(str(path), "drake"), load(str(path), "mujoco")
    swap = {"slide_TX": "slide_TY", "slide_TY": "slide_TX"}
    mujoco.velocity_names = [swap.get(n, n) for n in mujoco.velocity_names]
    mujoco.position_names = [swap.get(n, n) for n in mujoco.position_names]
    assert not all(d.ok for d in crosscheck(drake, mujoco, states=30, seed=2))


def test_cli_crosscheck_of_a_planar_joint(planar):
    path, _ = planar
    p = subprocess.run(
        [sys.executable, "-m", "underact.cli", "crosscheck", str(path), "--states", "20", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    out = json.loads(p.stdout)
    assert out["agree"] is True and [t["term"] for t in out["terms"]] == ["M", "Cv", "tau_g", "B", "nu"]
    assert out["terms"][-1]["note"] == "both have the description's 1 actuator(s)"


@pytest.fixture
def two_motors(tmp_path):
    """The description: a 2-link MJCF chain with motor1, motor2; MuJoCo plants of edited copies of the file."""
    path = tmp_path / "chain.xml"
    path.write_text(mjcf_chain(2, [1, 2]))
    return path, description_actuators(str(path))


def _mujoco_copy(tmp_path, text: str):
    edited = tmp_path / "edited.xml"
    edited.write_text(text)
    return load(str(edited), "mujoco")


def test_an_actuator_an_engine_dropped_is_named(two_motors, tmp_path):
    path, actuators = two_motors
    assert [a.name for a in actuators] == ["motor1", "motor2"]
    drake = load(str(path), "drake")
    lost = _mujoco_copy(tmp_path, mjcf_chain(2, [2]))  # an engine that lost motor1
    assert dropped_actuators(drake, actuators) == [] and dropped_actuators(lost, actuators) == ["motor1"]
    ((_, _, diffs),) = crosscheck_engines({"drake": drake, "mujoco": lost}, actuators, states=5)
    row = diffs[-1]
    assert row.term == "nu" and not row.ok and row.max_abs == 1.0
    assert row.note == "mujoco dropped 1 actuator(s) ('motor1') of the description's 2"


def test_an_actuator_left_without_authority_is_named(two_motors, tmp_path):
    """Kept by name but with a zero column of B (gear 0) while the description gives it gear 1."""
    path, actuators = two_motors
    silent = _mujoco_copy(tmp_path, mjcf_chain(2, [1, 2]).replace('joint="joint1" gear="1"', 'joint="joint1" gear="0"'))
    assert silent.actuator_names == ["motor1", "motor2"]
    assert dropped_actuators(silent, actuators) == ["motor1"]


def test_both_engines_dropping_the_same_actuator_still_fails(two_motors, tmp_path):
    """The engines would agree with each other; the description says otherwise."""
    _, actuators = two_motors
    a, b = _mujoco_copy(tmp_path, mjcf_chain(2, [2])), _mujoco_copy(tmp_path, mjcf_chain(2, [2]))
    ((_, _, diffs),) = crosscheck_engines({"a": a, "b": b}, actuators, states=5)
    assert all(d.ok for d in diffs[:-1]) and not diffs[-1].ok
    assert diffs[-1].note.count("dropped 1 actuator(s) ('motor1')") == 2


def test_builtins_have_no_description_row():
    assert description_actuators("acrobot") is None
    ((_, _, diffs),) = crosscheck_engines(
        {"d": load("acrobot", "drake"), "m": load("acrobot", "mujoco")}, None, states=5
    )
    assert [d.term for d in diffs] == ["M", "Cv", "tau_g", "B"] and all(d.ok for d in diffs)


BALL = """<mujoco model="ball">
  <worldbody>
    <body name="arm"><joint name="shoulder" type="ball"/>
      <inertial pos="0.1 0.2 -0.5" mass="2" diaginertia="0.3 0.2 0.1"/>
      {child}
    </body>
  </worldbody>
  {actuators}
</mujoco>
"""
FOREARM = """<body name="fore" pos="0.2 0.1 -1"><joint name="elbow" type="hinge" axis="0 1 0"/>
        <geom type="capsule" fromto="0 0 0 0 0 -1" size="0.05" mass="1"/></body>"""


def test_ball_joint_closed_form_on_both_engines(tmp_path):
    """One body on a ball joint. MuJoCo (q a quaternion, v = ω in the body's frame): M is the inertia about the
    pivot, I_p = I_c + m(|c|² − ccᵀ), τg = c × Rᵀ m g. Drake (roll-pitch-yaw, ω in the world's frame): R I_p Rᵀ and
    R c × m g. Written here from the parallel-axis theorem, not from either engine."""
    path = tmp_path / "ball.xml"
    path.write_text(BALL.format(child="", actuators=""))
    m, c, g = 2.0, np.array([0.1, 0.2, -0.5]), np.array([0.0, 0.0, -9.81])
    I_p = np.diag([0.3, 0.2, 0.1]) + m * (c @ c * np.eye(3) - np.outer(c, c))
    mujoco, drake = load(str(path), "mujoco"), load(str(path), "drake")
    assert (mujoco.nq, drake.nq, mujoco.nv, drake.nv) == (4, 3, 3, 3)
    rng = np.random.default_rng(4)
    quat = mujoco.random_q(rng, 6)
    R = quat_to_rot(quat)
    tm, td = mujoco.terms(quat, np.zeros((6, 3))), drake.terms(_rpy(R), np.zeros((6, 3)))
    np.testing.assert_allclose(tm.M, np.broadcast_to(I_p, (6, 3, 3)), atol=1e-12)
    np.testing.assert_allclose(td.M, R @ I_p @ np.swapaxes(R, 1, 2), atol=1e-12)
    np.testing.assert_allclose(tm.tau_g, np.cross(c, np.einsum("nji,j->ni", R, m * g)), atol=1e-12)
    np.testing.assert_allclose(td.tau_g, np.cross(np.einsum("nij,j->ni", R, c), m * g), atol=1e-12)


@pytest.mark.parametrize("engines", [("drake", "mujoco"), ("mujoco", "drake")])
def test_ball_joint_compares_across_parametrizations(tmp_path, engines):
    path = tmp_path / "arm.xml"
    path.write_text(BALL.format(child=FOREARM, actuators='<actuator><motor joint="elbow"/></actuator>'))
    a, b = (load(str(path), e) for e in engines)
    assert a.nq != b.nq and a.nv == b.nv == 4
    diffs = crosscheck(a, b, states=40, seed=5)
    assert [d.term for d in diffs] == ["M", "Cv", "tau_g", "B"] and all(d.ok for d in diffs), diffs
    with pytest.raises(UnderactError, match="C cannot be compared across ball joint 'shoulder'"):
        crosscheck(a, b, states=2, with_C=True)
