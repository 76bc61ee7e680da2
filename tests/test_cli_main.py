"""The command line's outer shell: one line for failures outside the commands' own checks."""

from __future__ import annotations

import os
import subprocess
import sys


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "underact.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def test_an_opengl_backend_that_cannot_start_is_one_line():
    """MUJOCO_GL naming a backend MuJoCo cannot start made every MuJoCo command print a 30-line traceback."""
    done = run("equation", "acrobot", "--backend", "mujoco", MUJOCO_GL="bogus")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "MuJoCo's OpenGL backend (bogus) could not start" in done.stderr and "unset MUJOCO_GL" in done.stderr


def test_vector_flags_take_negative_values_in_a_fresh_process():
    done = run("equation", "acrobot", "--backend", "analytic", "--q", "-0.3,0.2", "--v", "-1,-2", "--json")
    assert done.returncode == 0, done.stderr
    assert '"nq": 2' in done.stdout


def test_late_inputs_are_one_line(tmp_path):
    """Inputs added late in this change: an empty or non-finite --morphologies, a huge view --q."""
    cases = [
        (["train", "--env", "underact/AntDamaged-v0", "--morphologies", "[]", "--out", str(tmp_path / "a")],
         "argument --morphologies: must be a JSON list of objects, at least one"),
        (["train", "--env", "underact/AntDamaged-v0", "--morphologies", '[{"damage": NaN}]', "--out",
          str(tmp_path / "b")], "morphologies must hold finite numbers only"),
        (["view", "acrobot", "--q", "1e308,0", "--out", str(tmp_path / "c.html")], "within ±10000"),
    ]
    for args, message in cases:
        done = run(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and message in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written


def test_no_command_prints_the_usage_and_every_command():
    done = run()
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("usage: underact")
    for command in ("demo", "equation", "analyze", "crosscheck", "classify", "view", "simulate", "train", "evaluate"):
        assert f"\n    {command}" in done.stderr, command


def test_a_missing_argument_shows_the_commands_usage_line():
    done = run("analyze")
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and lines[0].startswith("usage: underact analyze") and "model" in done.stderr
    assert lines[-1] == "underact: error: the following arguments are required: model"
    assert "Traceback" not in done.stderr
