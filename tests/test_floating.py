"""Published robots on both engines: one floating-base convention, the files Drake loads load on MuJoCo, gears."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import gymnasium
import mujoco
import numpy as np
import pytest

from underact import load
from underact.cli import main
from underact.crosscheck import crosscheck
from underact.errors import UnderactError
from underact.plants.drake import drake_examples_dir

ASSETS = Path(gymnasium.__file__).parent / "envs" / "mujoco" / "assets"


def robots() -> Path:
    try:
        dist = importlib.metadata.distribution("example-robot-data")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("example-robot-data is not installed (a test extra)")
    return Path(dist.locate_file("cmeel.prefix/share/example-robot-data/robots"))


def assert_agree(a, b, states=20):
    diffs = crosscheck(a, b, states=states, seed=1)
    assert all(d.ok for d in diffs), [(d.term, d.max_abs, d.max_rel) for d in diffs]


def test_solo12_floating_base_agrees_on_both_engines():
    path = robots() / "solo_description" / "robots" / "solo12.urdf"
    drake, mj = load(path, "drake"), load(path, "mujoco")
    assert (drake.nq, drake.nv) == (mj.nq, mj.nv) == (19, 18)
    assert drake.velocity_names == mj.velocity_names
    assert drake.position_names == mj.position_names
    assert drake.velocity_names[:6] == [f"base_link_{s}" for s in ("wx", "wy", "wz", "vx", "vy", "vz")]
    assert drake.position_names[:7] == [f"base_link_{s}" for s in ("qw", "qx", "qy", "qz", "x", "y", "z")]
    q = drake.random_q(np.random.default_rng(0), 50)
    np.testing.assert_allclose(np.linalg.norm(q[:, :4], axis=1), 1.0, atol=1e-12)
    assert_agree(drake, mj)


def test_anymal_floating_base_agrees():
    path = robots() / "anymal_b_simple_description" / "robots" / "anymal.urdf"
    drake, mj = load(path, "drake"), load(path, "mujoco")
    assert any("base" in w for w in mj.warnings)  # a rounding-negative eigenvalue (-1e-22), raised and said
    assert_agree(drake, mj)


def test_free_joint_map_against_mujoco_itself():
    """The canonical v = [ω world, v world] against MuJoCo's own kinetic energy and body velocity (ant.xml)."""
    plant = load(ASSETS / "ant.xml", "mujoco")
    assert plant.velocity_names[:6] == [f"torso_{s}" for s in ("wx", "wy", "wz", "vx", "vy", "vz")]
    rng = np.random.default_rng(3)
    q = plant.random_q(rng, 1)[0]
    v = rng.normal(size=plant.nv)
    M = plant.terms(q, v).M
    model = mujoco.MjModel.from_xml_path(str(ASSETS / "ant.xml"))
    data = mujoco.MjData(model)
    data.qpos[:3], data.qpos[3:7], data.qpos[7:] = q[4:7], q[:4], q[7:]
    mujoco.mj_kinematics(model, data)
    R = data.xmat[1].reshape(3, 3)
    data.qvel[:3], data.qvel[3:6], data.qvel[6:] = v[3:6], R.T @ v[:3], v[6:]
    full = np.zeros((model.nv, model.nv))
    mujoco.mj_forward(model, data)
    mujoco.mj_fullM(model, data, full)
    assert 0.5 * v @ M @ v == pytest.approx(0.5 * data.qvel @ full @ data.qvel, rel=1e-12)
    velocity = np.zeros(6)  # [angular, linear] of the torso's frame, in the world frame
    mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_BODY, 1, velocity, 0)
    np.testing.assert_allclose(velocity[:3], v[:3], atol=1e-12)


def test_mujoco_free_body_qdot_matches_drake():
    path = robots() / "solo_description" / "robots" / "solo12.urdf"
    drake, mj = load(path, "drake"), load(path, "mujoco")
    rng = np.random.default_rng(2)
    q, v = drake.random_q(rng, 3), rng.normal(size=(3, drake.nv))
    np.testing.assert_allclose(mj.qdot(q, v), drake.qdot(q, v), atol=1e-12)


@pytest.mark.parametrize("relative", ["acrobot/Acrobot.urdf", "pendulum/Pendulum.urdf"])
def test_drakes_own_examples_load_on_mujoco(relative):
    """`world` used but undeclared (Acrobot) and a placeholder inertia on `world` (Pendulum)."""
    path = drake_examples_dir() / relative
    assert_agree(load(path, "drake"), load(path, "mujoco"))


MASSLESS_ROOT = """<robot name="arm">
  <link name="root"/>
  <link name="upper"><inertial><mass value="1"/><origin xyz="0 0 -0.5"/>
    <inertia ixx="0.1" iyy="0.1" izz="0.01" ixy="0" ixz="0" iyz="0"/></inertial></link>
  <joint name="shoulder" type="revolute"><parent link="root"/><child link="upper"/><axis xyz="0 1 0"/>
    <limit effort="5" lower="-3" upper="3" velocity="1"/></joint>
  <transmission name="t"><type>transmission_interface/SimpleTransmission</type>
    <joint name="shoulder"/><actuator name="shoulder_motor"/></transmission>
</robot>
"""


@pytest.mark.parametrize("backend", ["drake", "mujoco"])
def test_massless_floating_base_is_refused_and_fixed_base_loads(tmp_path, backend):
    path = tmp_path / "arm.urdf"
    path.write_text(MASSLESS_ROOT)
    with pytest.raises(UnderactError, match=r"floating base link 'root' has no mass.*--base fixed"):
        load(path, backend)
    plant = load(path, backend, base="fixed")
    assert (plant.nq, plant.nv, plant.nu) == (1, 1, 1)
    assert plant.actuator_names == ["shoulder_motor"]


def test_massless_floating_base_cli_one_line(tmp_path, capsys):
    path = tmp_path / "arm.urdf"
    path.write_text(MASSLESS_ROOT)
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no mass" in err and "Traceback" not in err


def test_base_modes_on_both_engines():
    pendulum = drake_examples_dir() / "pendulum" / "Pendulum.urdf"
    for backend in ("drake", "mujoco"):
        floating = load(pendulum, backend, base="floating")
        assert (floating.nq, floating.nv) == (8, 7)
    assert_agree(load(pendulum, "drake", base="floating"), load(pendulum, "mujoco", base="floating"))
    acrobot = drake_examples_dir() / "acrobot" / "Acrobot.urdf"  # its base_link has no mass: freed, it is refused
    with pytest.raises(UnderactError, match="'base_link' has no mass"):
        load(acrobot, "mujoco", base="floating")
    solo = robots() / "solo_description" / "robots" / "solo12.urdf"
    assert load(solo, "drake", base="fixed").nv == load(solo, "mujoco", base="fixed").nv == 12
    with pytest.raises(UnderactError, match="base must be one of"):
        load(acrobot, "drake", base="welded")


@pytest.mark.parametrize("name", ["inverted_pendulum.xml", "hopper.xml", "reacher.xml", "pusher.xml", "swimmer.xml"])
def test_mjcf_gear_and_armature_apply_on_drake(name):
    """gear scales B; armature of unactuated joints (pusher's object, swimmer's root) is on M's diagonal."""
    drake, mj = load(ASSETS / name, "drake"), load(ASSETS / name, "mujoco")
    gear, armature = np.abs(mj.terms(mj.q_rest, np.zeros(mj.nv)).B).max(), mj.model.dof_armature.max()
    assert gear > 1.0 or armature > 0.0  # each file uses gear > 1 or armature
    assert_agree(drake, mj, states=10)


GEAR_BY_CLASS = """<mujoco model="geared">
  <default><default class="strong"><motor gear="7"/></default></default>
  <worldbody><body name="link"><joint name="hinge" type="hinge" axis="0 1 0"/>
    <inertial pos="0 0 -0.5" mass="1" diaginertia="0.1 0.1 0.01"/></body></worldbody>
  <actuator><motor name="m" joint="hinge" class="strong"/></actuator>
</mujoco>
"""


def test_mjcf_gear_from_a_default_class(tmp_path):
    path = tmp_path / "geared.xml"
    path.write_text(GEAR_BY_CLASS)
    drake, mj = load(path, "drake"), load(path, "mujoco")
    np.testing.assert_allclose(mj.terms([0.0], [0.0]).B, [[7.0]])
    np.testing.assert_allclose(drake.terms([0.0], [0.0]).B, [[7.0]])


def test_triangle_inequality_is_repaired_once_for_both_engines():
    path = robots() / "allegro_hand_description" / "urdf" / "allegro_left_hand.urdf"
    drake, mj = load(path, "drake"), load(path, "mujoco")
    for plant in (drake, mj):
        assert any("inertia repaired for both engines" in w and "link_3.0" in w for w in plant.warnings)
    assert all(d.ok for d in crosscheck(drake, mj, states=5, seed=0))


def test_nonfinite_state_is_one_line_on_drake_not_systemexit():
    plant = load("acrobot", "drake")
    with pytest.raises(UnderactError, match="q must be finite"):
        plant.terms([np.nan, 0.0], [0.0, 0.0])


def test_vector_flags_accept_a_leading_negative_value(capsys):
    assert main(["equation", "acrobot", "--q", "-0.3,0.2", "--v", "-1,-2", "--json"]) == 0
    assert '"nq": 2' in capsys.readouterr().out
