"""backend="pinocchio": the built-ins against their closed form, files against Drake and MuJoCo, the floating-base map
against a rigid body's closed form and against Drake, and the commands that take it."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import underact
from underact.crosscheck import crosscheck_engines
from underact.errors import UnderactError
from underact.plants.base import quat_to_rot
from underact.plants.drake import drake_examples_dir

TERMS = ("M", "Cv", "tau_g", "B")


def robots_dir() -> Path:
    dist = importlib.metadata.distribution("example-robot-data")
    return Path(dist.locate_file("cmeel.prefix/share/example-robot-data/robots"))


PANDA = robots_dir() / "panda_description" / "urdf" / "panda.urdf"
SOLO12 = robots_dir() / "solo_description" / "robots" / "solo12.urdf"
UR5 = robots_dir() / "ur_description" / "urdf" / "ur5_robot.urdf"


def load(model, backend, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return underact.load(model, backend, **kw)


def assert_same_terms(a, b, q, v, atol=1e-10):
    ta, tb = a.terms(q, v), b.terms(q, v)
    for name in TERMS:
        np.testing.assert_allclose(getattr(tb, name), getattr(ta, name), atol=atol, err_msg=name)


@pytest.mark.parametrize("system", underact.BUILTINS)
def test_builtins_match_their_closed_form(system):
    ref, plant = load(system, "analytic"), load(system, "pinocchio")
    rng = np.random.default_rng(0)
    q, v = ref.random_q(rng, 20), rng.uniform(-3, 3, (20, ref.nv))
    assert_same_terms(ref, plant, q, v, atol=1e-12)
    np.testing.assert_allclose(plant.coriolis(q, v), ref.coriolis(q, v), atol=1e-12)
    np.testing.assert_allclose(plant.damping(v), ref.damping(v))
    np.testing.assert_allclose(plant.potential(q), ref.potential(q), atol=1e-12)
    assert plant.velocity_names == ref.velocity_names and plant.actuator_names == ref.actuator_names
    assert plant.angle_mask.tolist() == ref.angle_mask.tolist()
    np.testing.assert_array_equal(plant.u_limit, ref.u_limit)
    np.testing.assert_array_equal(plant.upright, ref.upright)


def test_builtin_parameters_override_as_on_the_closed_form():
    ref, plant = load("cartpole", "analytic", l=1.3, mp=0.4), load("cartpole", "pinocchio", l=1.3, mp=0.4)
    q, v = np.array([[0.2, 2.0]]), np.array([[0.5, -1.0]])
    assert_same_terms(ref, plant, q, v, atol=1e-12)


def test_free_box_matches_the_rigid_body_closed_form(tmp_path):
    """A lone box floats: M = diag(R I Rᵀ, m 1), Cv = (ω × R I Rᵀ ω, 0), τg = (0, 0, −m g), ω and v in the world."""
    path = tmp_path / "box.urdf"
    path.write_text(
        '<robot name="box"><link name="box"><inertial><mass value="2"/>'
        '<inertia ixx="0.2" iyy="0.25" izz="0.3" ixy="0.01" ixz="0" iyz="-0.02"/></inertial></link></robot>'
    )
    plant = load(path, "pinocchio")
    assert (plant.nq, plant.nv) == (7, 6) and plant.quaternion_starts == (0,)
    assert plant.position_names == ["box_qw", "box_qx", "box_qy", "box_qz", "box_x", "box_y", "box_z"]
    assert plant.velocity_names == ["box_wx", "box_wy", "box_wz", "box_vx", "box_vy", "box_vz"]
    rng = np.random.default_rng(1)
    q, v = plant.random_q(rng, 6), rng.normal(size=(6, 6))
    I_body = np.array([[0.2, 0.01, 0.0], [0.01, 0.25, -0.02], [0.0, -0.02, 0.3]])  # a possible body
    R = quat_to_rot(q[:, :4])
    I_world = R @ I_body @ np.swapaxes(R, 1, 2)
    t = plant.terms(q, v)
    np.testing.assert_allclose(t.M[:, :3, :3], I_world, atol=1e-14)
    np.testing.assert_allclose(t.M[:, 3:, 3:], np.broadcast_to(2 * np.eye(3), (6, 3, 3)), atol=1e-14)
    np.testing.assert_allclose(t.M[:, :3, 3:], 0.0, atol=1e-14)
    w = v[:, :3]
    np.testing.assert_allclose(t.Cv[:, :3], np.cross(w, np.einsum("nij,nj->ni", I_world, w)), atol=1e-13)
    np.testing.assert_allclose(t.Cv[:, 3:], 0.0, atol=1e-13)
    np.testing.assert_allclose(t.tau_g, np.broadcast_to([0, 0, 0, 0, 0, -2 * 9.81], (6, 6)), atol=1e-13)
    np.testing.assert_allclose(plant.qdot(q, v), load(path, "drake").qdot(q, v), atol=1e-14)


@pytest.mark.parametrize(("path", "base"), [(PANDA, "fixed"), (PANDA, "floating"), (SOLO12, "auto"), (UR5, "auto")])
def test_files_match_drake_in_the_one_floating_base_convention(path, base):
    drake, plant = load(path, "drake", base=base), load(path, "pinocchio", base=base)
    assert plant.velocity_names == drake.velocity_names
    assert (plant.position_names or plant.velocity_names) == (drake.position_names or drake.velocity_names)
    assert plant.actuator_names == drake.actuator_names
    np.testing.assert_allclose(plant.b, drake.b)
    np.testing.assert_array_equal(plant.u_limit, drake.u_limit)
    rng = np.random.default_rng(2)
    q, v = drake.random_q(rng, 10), rng.uniform(-2, 2, (10, drake.nv))
    assert_same_terms(drake, plant, q, v, atol=1e-11)
    np.testing.assert_allclose(plant.potential(q), drake.potential(q), atol=1e-11)
    for lo_hi_p, lo_hi_d in zip(plant.position_limits(), drake.position_limits(), strict=True):
        np.testing.assert_array_equal(lo_hi_p, lo_hi_d)


def test_continuous_joints_are_one_angle():
    """Drake's Acrobot.urdf has continuous joints: (cos θ, sin θ) in Pinocchio, one angle here, as on Drake."""
    path = drake_examples_dir() / "acrobot" / "Acrobot.urdf"
    drake, plant = load(path, "drake"), load(path, "pinocchio")
    assert (plant.nq, plant.nv, plant.model.nq) == (2, 2, 4)
    assert plant.angle_mask.tolist() == [True, True]
    q, v = np.array([[0.3, -2.9], [3.0, 1.0]]), np.array([[0.1, 0.5], [-1.0, 2.0]])
    assert_same_terms(drake, plant, q, v, atol=1e-12)
    np.testing.assert_allclose(plant.from_engine_q(plant.to_engine_q(q)), q, atol=1e-15)


def test_three_engines_agree_on_the_panda_all_pairs():
    plants = {b: load(PANDA, b, base="fixed") for b in ("drake", "mujoco", "pinocchio")}
    pairs = crosscheck_engines(plants, states=20, seed=3, with_C=True)
    assert [(a, b) for a, b, _ in pairs] == [("drake", "mujoco"), ("drake", "pinocchio"), ("mujoco", "pinocchio")]
    for a, b, diffs in pairs:
        assert [d.term for d in diffs] == [*TERMS, "C"]
        assert all(d.ok for d in diffs), (a, b, [(d.term, d.max_abs) for d in diffs if not d.ok])


def run(*args):
    return subprocess.run([sys.executable, "-m", "underact.cli", *args], capture_output=True, text=True, timeout=300)


def test_cli_crosscheck_engines_and_equation_and_analyze():
    p = run("crosscheck", str(SOLO12), "--engines", "drake,mujoco,pinocchio", "--states", "10", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["agree"] and out["engines"] == ["drake", "mujoco", "pinocchio"] and len(out["pairs"]) == 3
    p = run("equation", "pendulum", "--backend", "pinocchio", "--q", "0.5", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["tau_g"] == pytest.approx([-1 * 9.81 * 0.5 * np.sin(0.5)], rel=1e-12)
    p = run("analyze", "cartpole", "--backend", "pinocchio", "--json", "--samples", "5")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["controllable"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("crosscheck", "acrobot", "--engines", "drake,ode"), "argument --engines: unknown engine 'ode'"),
        (("crosscheck", "acrobot", "--engines", "pinocchio"), "argument --engines: needs 2 or more different engines"),
        (("equation", str(drake_examples_dir() / "multibody/cart_pole/cart_pole.sdf"), "--backend", "pinocchio"),
         "the pinocchio backend reads URDF files"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message):
    p = run(*args)
    assert p.returncode == 2 and message in p.stderr and p.stderr.count("\n") == 1, p.stderr


def test_a_urdf_pinocchio_cannot_parse_is_one_line(tmp_path):
    """urdfdom prints its parse errors on the C stderr; the user sees one line naming the problem, exit 2."""
    path = tmp_path / "bad.urdf"
    path.write_text(
        '<robot name="bad"><link name="world"/><link name="a"><inertial><mass value="1"/><inertia ixx="0.1" '
        'iyy="0.1" izz="0.1" ixy="0" ixz="0" iyz="0"/></inertial></link><joint name="j" type="revolute">'
        '<parent link="world"/><child link="a"/><origin xyz="0 0"/><axis xyz="0 0 1"/>'
        '<limit lower="-1" upper="1" effort="1" velocity="1"/></joint></robot>'
    )
    p = run("equation", str(path), "--backend", "pinocchio")
    assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr
    assert "Pinocchio could not load the model: Parser found 2 elements but 3 expected" in p.stderr


def test_sdf_refused_in_python_too():
    with pytest.raises(UnderactError, match="reads URDF files"):
        load(drake_examples_dir() / "multibody/cart_pole/cart_pole.sdf", "pinocchio")


def test_import_underact_does_not_import_pinocchio():
    code = "import sys, underact; underact.load('acrobot', 'analytic'); print('pinocchio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_plant_pickles_and_copies_after_use():
    """A used plant holds Pinocchio's batch pool, which Boost cannot pickle; the plant still pickles (Ray workers)."""
    import copy
    import pickle

    plant = load(UR5, "pinocchio")
    rng = np.random.default_rng(4)
    q, v = plant.random_q(rng, 3), rng.normal(size=(3, plant.nv))
    before = plant.terms(q, v)
    for clone in (pickle.loads(pickle.dumps(plant)), copy.deepcopy(plant)):
        after = clone.terms(q, v)
        for name in (*TERMS, "C"):
            np.testing.assert_array_equal(getattr(after, name), getattr(before, name))
