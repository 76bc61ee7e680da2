"""A machine with only Python: nothing imports an engine it does not use, nor forces an OpenGL backend.

The trap is armed and checked: `MUJOCO_GL=bogus` makes `import mujoco` itself fail (as `MUJOCO_GL=osmesa` does
where libOSMesa is missing), so a command that passes under it never imported MuJoCo.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from underact.gl import choose_mujoco_gl

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "scripts").glob("*.py"))
BROKEN_GL = {"MUJOCO_GL": "bogus"}


def python(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=ROOT)


def test_the_trap_is_armed():
    done = python("-c", "import mujoco", env=BROKEN_GL)
    assert done.returncode != 0 and "MUJOCO_GL" in done.stderr


def test_importing_the_environments_loads_no_engine():
    code = ("import sys, gymnasium, underact.envs; "
            "print(sorted(m for m in ('mujoco', 'pydrake', 'torch', 'OpenGL') if m in sys.modules)); "
            "print(sorted(i for i in gymnasium.registry if i.startswith('underact/')))")
    done = python("-c", code, env=BROKEN_GL)
    assert done.returncode == 0, done.stderr
    loaded, ids = done.stdout.splitlines()
    assert loaded == "[]"
    assert "underact/AntDamaged-v0" in ids and "underact/AcrobotSwingUp-v0" in ids


def test_default_train_runs_where_mujoco_cannot_import(tmp_path):
    """The README's `underact train --env CartPole-v1` with a broken GL setting: it trains and solves the task."""
    out = tmp_path / "cp"
    done = python("-m", "underact.cli", "train", "--env", "CartPole-v1", "--seed", "0", "--out", str(out),
                  env=BROKEN_GL)
    assert done.returncode == 0, done.stderr
    evaluated = re.search(r"evaluated mean ([0-9.]+)", done.stdout)
    assert evaluated and float(evaluated.group(1)) >= 475, done.stdout  # CartPole-v1's reward threshold


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_every_script_help_works_anywhere(script):
    done = python(str(script), "--help", env=BROKEN_GL, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage:") and done.stderr == ""


def test_a_users_gl_choice_is_kept(monkeypatch):
    monkeypatch.setenv("MUJOCO_GL", "egl")
    assert choose_mujoco_gl() == "egl" and os.environ["MUJOCO_GL"] == "egl"


def test_nothing_sets_the_gl_variables_at_import():
    code = "import os, underact, underact.envs, underact.agents, underact.render; print(os.environ.get('MUJOCO_GL'))"
    env = {k: v for k, v in os.environ.items() if k not in ("MUJOCO_GL", "PYOPENGL_PLATFORM")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "None", done.stderr


def test_a_mujoco_frame_chooses_a_backend_that_draws(needs_mujoco_gl):
    """With no MUJOCO_GL set, the first Ant frame picks a backend that draws (chosen then, not at import)."""
    code = """
import os, gymnasium, numpy as np, underact.envs
from underact.agents.render import _drawing
env = gymnasium.make("underact/AntDamaged-v0", render_mode="rgb_array", width=64, height=48)
env.reset(seed=0)
assert "MUJOCO_GL" not in os.environ
frame = _drawing(env)()
print(os.environ["MUJOCO_GL"], frame.shape, int(frame.std() > 5))
"""
    env = {k: v for k, v in os.environ.items() if k not in ("MUJOCO_GL", "PYOPENGL_PLATFORM")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    words = done.stdout.split()
    assert words[0] in ("glfw", "egl", "osmesa") and "(48, 64, 3)" in done.stdout and words[-1] == "1", done.stdout


def test_the_first_compilation_says_so_once(tmp_path):
    """An empty numba cache (a fresh install): the first frame compiles and says so in one line; the next run
    loads the cache and says nothing."""
    code = ("import numpy as np; from underact.render import PendulumScene; "
            "s = PendulumScene(1.0); print(s.render(np.array([[0.3]]), 32, 32).shape)")
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    first, second = python("-c", code, env=env), python("-c", code, env=env)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    lines = [line for line in first.stderr.splitlines() if "compiling" in line]
    assert len(lines) == 1 and lines[0].startswith("underact: compiling underact.render.") and "first run" in lines[0]
    assert "compiling" not in second.stderr
