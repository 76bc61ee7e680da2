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
    from underact.plants.builtin_mjcf import acrobot_spec
    from underact.plants.mujoco import MujocoPlant

    wrong = acrobot_spec(AcrobotParams())
    assert [a.target for a in wrong.actuators] == ["elbow"]
    wrong.actuators[0].target = "shoulder"
    diffs = crosscheck(load("acrobot", "drake"), MujocoPlant.from_spec(wrong, "acrobot"), states=20)
    bad = {d.term for d in diffs if not d.ok}
    assert bad == {"B"}


@pytest.mark.parametrize(
    "args,needle",
    [
        (("equation", "nosuchrobot"), "neither a built-in"),
        (("equation", "acrobot", "--q", "1,2,3"), "--q needs 2"),
        (("equation", "acrobot", "--v", "x,1"), "argument --v: must be comma-separated numbers"),
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


def refused(capsys, *argv: str) -> str:
    """Runs `underact ARGV` in-process; asserts exit 2 and one line on stderr; returns that line."""
    from underact.cli import main

    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err.strip()


@pytest.mark.parametrize(
    "args,line",
    [
        (("analyze", "acrobot", "--seed", "-1"), "argument --seed: must be a non-negative integer; got '-1'"),
        (("crosscheck", "acrobot", "--seed", "-1"), "argument --seed: must be a non-negative integer; got '-1'"),
        (
            ("analyze", "acrobot", "--equilibrium", "1e308,1e308"),
            "acrobot: an equilibrium needs 2 finite entries within ±10000; got [1e+308, 1e+308]",
        ),
        (("analyze", "acrobot", "--samples", "100000000"),
         "argument --samples: must be an integer from 1 to 100000; got '100000000'"),
        (("analyze", "acrobot", "--samples", "0"), "argument --samples: must be an integer from 1 to 100000; got '0'"),
        (("analyze", "acrobot", "--samples", "1e8"),
         "argument --samples: must be an integer from 1 to 100000; got '1e8'"),
        (("crosscheck", "acrobot", "--states", "100001"),
         "argument --states: must be an integer from 1 to 100000; got '100001'"),
        (("crosscheck", "acrobot", "--atol", "nan"), "argument --atol: must be a finite number >= 0; got 'nan'"),
        (("crosscheck", "acrobot", "--atol", "-1"), "argument --atol: must be a finite number >= 0; got '-1'"),
        (("crosscheck", "acrobot", "--rtol", "inf"), "argument --rtol: must be a finite number >= 0; got 'inf'"),
        (
            ("equation", "acrobot", "--backend", "drake", "--v", "1e300,1e300", "--json"),
            "Cv not finite at q = [0.0, 0.0], v = [1e+300, 1e+300]: the terms overflow at this state; "
            "use smaller --q / --v",
        ),
        (("analyze", "acrobot", "--base", "wobbly"), "argument --base: invalid choice: 'wobbly'"),
    ],
)
def test_hostile_flags_one_line(capsys, args, line):
    assert refused(capsys, *args).startswith(f"underact: error: {line}")


def test_equation_overflow_refused_without_json_too(capsys):
    """Text output refuses the same state: printing nan would be a wrong answer (at q = 0 the closed form's Cv is
    exactly 0, since sin θ2 = 0 multiplies the velocities; at q2 ≠ 0 it overflows)."""
    line = refused(capsys, "equation", "acrobot", "--backend", "analytic", "--q", "0.3,0.2", "--v", "1e300,1e300")
    assert "Cv not finite" in line


def test_base_auto_is_the_default_and_accepted(capsys):
    from underact.cli import main

    assert main(["equation", "pendulum", "--backend", "analytic", "--base", "auto", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["nv"] == 1
    assert main(["analyze", "pendulum", "--backend", "analytic", "--base", "auto", "--samples", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["class"] == "fully-actuated"


def test_mat_refusals_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dir.mat").mkdir()
    (tmp_path / "file").write_text("")
    cases = {
        "out": "argument --mat: out: the file name must end in .mat",
        ".": "argument --mat: .: the file name must end in .mat",
        "dir.mat": "argument --mat: dir.mat: exists and is not a regular file; give a new .mat file name",
        "no/x.mat": "argument --mat: no/x.mat: the folder no does not exist",
        "file/x.mat": "argument --mat: file/x.mat: the folder file does not exist",
        "/proc/x.mat": "cannot write /proc/x.mat: No such file or directory",
    }
    for target, line in cases.items():
        err = refused(capsys, "analyze", "pendulum", "--backend", "analytic", "--mat", target)
        assert err == f"underact: error: {line}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.mat", "file"]  # nothing written, nothing left over


def test_singular_mass_matrix_one_line(tmp_path, capsys):
    """A prismatic joint to a massless link: Drake loads it, M = [[0]]; analyze names the model and q."""
    from underact.description.generate import urdf_chain

    path = tmp_path / "massless.urdf"
    path.write_text(urdf_chain(1, [1], joint_type="prismatic", mass=0.0))
    line = refused(capsys, "analyze", str(path), "--backend", "drake")
    assert line == (
        "underact: error: massless (drake): the mass matrix M(q) is singular at q = [0.0]; every moving body needs "
        "positive mass and inertia (a massless link or a degenerate inertia?)"
    )


def test_crosscheck_json_is_strict_json():
    """No NaN or Infinity tokens: the output parses with a parser that refuses them."""
    p = run("crosscheck", "pendulum", "--states", "5", "--json")
    assert p.returncode == 0, p.stderr

    def refuse(token):
        raise AssertionError(f"non-JSON constant {token}")

    assert json.loads(p.stdout, parse_constant=refuse)["agree"] is True
