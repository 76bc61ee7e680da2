"""MuJoCo's OpenGL backend, chosen when the first MuJoCo frame is asked for, never at import.

MuJoCo reads `MUJOCO_GL` when it is imported (and Gymnasium's MuJoCo renderer when it draws), and PyOpenGL reads
`PYOPENGL_PLATFORM` when it is imported: a library that set them at import would break `import mujoco` on every
machine without that backend's library, even for work that never draws. So underact sets nothing until a MuJoCo
frame is asked for (`evaluate --render` on a MuJoCo task, the quadruped's GIF); then `choose_mujoco_gl()` keeps
the user's `MUJOCO_GL` if there is one, and otherwise picks the first backend that draws a frame here: GLFW where a
display exists, then EGL (a GPU, or Mesa's), then OSMesa (software). Each candidate is tried once per process, in a
subprocess, so a backend that fails cannot leave this process half-initialised. Where none draws, one
`UnderactError` line says what to install.
"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache

from underact.errors import UnderactError

#: What to install where no backend draws (Debian's package names).
INSTALL_HINT = (
    "install an OpenGL library (Debian: apt-get install libosmesa6 for software rendering, or a GPU driver with "
    "EGL) or set MUJOCO_GL to a backend that works here"
)

# Draws one lit sphere in a 16 × 16 frame; exits 0 iff some pixel is not black (a broken context draws nothing).
_PROBE = """
import mujoco
m = mujoco.MjModel.from_xml_string('<mujoco><worldbody><light pos="0 0 3"/><geom size="0.5"/></worldbody></mujoco>')
d = mujoco.MjData(m)
mujoco.mj_forward(m, d)
with mujoco.Renderer(m, 16, 16) as r:
    r.update_scene(d)
    raise SystemExit(0 if r.render().any() else 1)
"""


@cache
def draws(backend: str) -> bool:
    """Whether MuJoCo draws a non-empty frame with `MUJOCO_GL=backend` here (tried in a subprocess, cached)."""
    env = {**os.environ, "MUJOCO_GL": backend}
    env.pop("PYOPENGL_PLATFORM", None)  # MuJoCo's osmesa and egl modules set the matching platform themselves
    try:
        done = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def candidates() -> list[str]:
    """The backends worth trying here, in order of preference."""
    display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return (["glfw"] if display else []) + ["egl", "osmesa"]


def available_mujoco_gl() -> str | None:
    """The `MUJOCO_GL` value MuJoCo frames would use here, or None where nothing draws (tests skip on None)."""
    user = os.environ.get("MUJOCO_GL")
    if user:
        return user if draws(user) else None
    return next((backend for backend in candidates() if draws(backend)), None)


def choose_mujoco_gl() -> str:
    """Before the first MuJoCo frame: keeps the user's `MUJOCO_GL`, or sets the first backend that draws here.

    Raises `UnderactError` (one line: what to install) where none does. Call it before MuJoCo's renderer is made;
    where MuJoCo was already imported with another backend, the user's environment is left as it is.
    """
    user = os.environ.get("MUJOCO_GL")
    if user:
        return user
    backend = next((b for b in candidates() if draws(b)), None)
    if backend is None:
        raise UnderactError(f"MuJoCo cannot draw here: no OpenGL backend works ({', '.join(candidates())} tried); "
                            + INSTALL_HINT)
    os.environ.update(MUJOCO_GL=backend)  # asked for a frame, chose nothing: the backend that drew the probe
    return backend
