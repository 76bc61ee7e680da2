"""`underact equation / analyze / crosscheck` as a user runs them: real processes, exit codes, one-line errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.test_plants import textbook_acrobot


def run(*args):
    return subprocess.run([sys.executable, "-m", "underact.cli", *args], capture_output=True, text=True, timeout=120)


def test_equation_json_matches_textbook():
    p = run("equation", "acrobot", "--backend", "drake", "--q", "0.3,-0.2", "--v", "0.1,0.5", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    M, Cv, tau_g, B = textbook_acrobot(np.array([0.3, -0.2]), np.array([0.1, 0.5]))
    assert out["nq"] == out["nv"] == 2 and out["nu"] == 1
    np.testing.assert_allclose(out["M"], M, atol=1e-9)
    np.testing.assert_allclose(out["Cv"], Cv, atol=1e-9)
    np.testing.assert_allclose(out["tau_g"], tau_g, atol=1e-9)
    np.testing.assert_allclose(out["B"], B)
    np.testing.assert_allclose(out["damping"], [-0.01, -0.05])


def test_crosscheck_agrees_and_reports():
    p = run("crosscheck", "acrobot", "--states", "200", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["agree"] and [t["term"] for t in out["terms"]] == ["M", "Cv", "tau_g", "B"]


def test_crosscheck_catches_a_dropped_transmission(tmp_path):
    """An MJCF and a URDF of the 'same' robot, but the MJCF actuates the wrong joint: exit 1, B named."""
    from underact import load
    from underact.crosscheck import crosscheck
    from underact.plants.analytic import AcrobotParams
    from underact.plants.builtin_mjcf import acrobot_mjcf
    from underact.plants.mujoco import MujocoPlant

    wrong = acrobot_mjcf(AcrobotParams()).replace('joint="elbow" gear="1"', 'joint="shoulder" gear="1"')
    diffs = crosscheck(load("acrobot", "drake"), MujocoPlant.from_xml_string(wrong, "acrobot"), states=20)
    bad = {d.term for d in diffs if not d.ok}
    assert bad == {"B"}


@pytest.mark.parametrize(
    "args,needle",
    [
        (("equation", "nosuchrobot"), "neither a built-in"),
        (("equation", "acrobot", "--q", "1,2,3"), "--q needs 2"),
        (("equation", "acrobot", "--v", "x,1"), "--v must be comma-separated numbers"),
        (("equation", "acrobot", "--q", "nan,1"), "finite"),
        (("analyze", "acrobot", "--backend", "bullet"), "invalid choice"),
        (("analyze", "/nonexistent/robot.urdf"), "neither a built-in"),
        (("analyze", "acrobot", "--equilibrium", "1"), "--equilibrium needs 2"),
    ],
)
def test_bad_input_one_line_exit_2(args, needle):
    p = run(*args)
    assert p.returncode == 2
    assert needle in p.stderr and len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


def test_unreadable_and_directory(tmp_path):
    bad = tmp_path / "bad.urdf"
    bad.write_text("<robot name='x'><link name='a'>")
    for target in (str(bad), str(tmp_path)):
        p = run("analyze", target)
        assert p.returncode == 2 and "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_demo_runs_and_writes_pictures(tmp_path):
    """The Quickstart's main job: three engines agree, and both systems end upright with plots and GIFs."""
    from underact.cli import main

    assert main(["demo", "--states", "10", "--out", str(tmp_path)]) == 0
    for name in ("acrobot", "cartpole"):
        traj = np.load(tmp_path / name / "trajectory.npz")
        assert traj["q"].shape[1] == 2 and traj["t"][-1] >= 9.9
        assert (tmp_path / name / "plot.png").stat().st_size > 10_000
        assert (tmp_path / name / "animation.gif").read_bytes()[:6] == b"GIF89a"
