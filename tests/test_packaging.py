"""The wheel carries every package: `pyproject.toml`'s `packages` lists each folder with an `__init__.py`."""

from __future__ import annotations

from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser as the package tomli, where installed
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_for_the_wheel():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = setuptools["package-dir"]  # {"underact": "underact", "underact.envs": "envs", ...}
    found = set()
    for name, folder in folders.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            if "__pycache__" in parts:
                continue
            found.add(".".join((name, *parts)))
    # a package-dir of its own (underact.envs under envs/) is not also a subfolder of underact/
    assert "underact.systems" in found and "underact.agents.perception" in found
    assert sorted(found) == sorted(setuptools["packages"])
