"""What some tests need from the system beyond Python: an OpenGL backend MuJoCo can draw with, a browser.

The fixtures `needs_mujoco_gl` and `needs_chromium` (or `require_mujoco_gl()` / `require_chromium()` inside a
module-scoped fixture) skip a test where that is absent, saying what to install. CI installs both
and sets `UNDERACT_REQUIRE_SYSTEM=1`, which turns those skips into failures, so CI runs every one of them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from underact.gl import available_mujoco_gl

CHROMIUM = Path("/usr/bin/chromium")
REQUIRED = os.environ.get("UNDERACT_REQUIRE_SYSTEM") == "1"


def _missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"UNDERACT_REQUIRE_SYSTEM=1 but {reason}")
    pytest.skip(reason)


def require_mujoco_gl() -> str:
    """The MUJOCO_GL backend MuJoCo draws with here; skips the test (fails it under CI) where none draws."""
    backend = available_mujoco_gl()
    if backend is None:
        _missing("MuJoCo cannot draw here: no OpenGL backend works (Debian: apt-get install libosmesa6)")
    return backend


def require_chromium() -> Path:
    """Debian's Chromium; skips the test (fails it under CI) where it is not installed."""
    if not CHROMIUM.exists():
        _missing(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install -y chromium); "
                 "the page tests need a browser")
    return CHROMIUM


@pytest.fixture
def needs_mujoco_gl() -> str:
    return require_mujoco_gl()


@pytest.fixture
def needs_chromium() -> Path:
    return require_chromium()
