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
