"""One module per engine (`underact.engines`): MuJoCo's one warning hook, its loaders' one-line errors, and a
source check that no other module installs an engine hook, compiles a model file or imports an engine itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from underact.errors import UnderactError

mujoco_engine = pytest.importorskip("underact.engines.mujoco")

ROOT = Path(__file__).resolve().parents[1]
#: MuJoCo warns that this compiler attribute is deprecated (a warning, not an error: the model still compiles).
WARNS = ('<mujoco><compiler settotalmass="1"/><worldbody><body><joint/><geom size="0.1"/></body></worldbody>'
         "</mujoco>")


def test_messages_collects_mujocos_warnings_and_writes_no_log(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MuJoCo's own default would append to MUJOCO_LOG.TXT here
    before = mujoco_engine.mujoco.get_mju_user_warning()
    sink: list[str] = []
    with mujoco_engine.messages(sink):
        model = mujoco_engine.load_string(WARNS, "warns")
    assert model.nv == 1
    assert len(sink) == 1 and sink[0].startswith("MuJoCo: ") and "settotalmass" in sink[0] and "\n" not in sink[0]
    assert mujoco_engine.mujoco.get_mju_user_warning() is before  # the previous hook is back
    compiled: list[str] = []
    with mujoco_engine.messages(compiled):  # MjSpec.compile says it as a Python warning: collected the same
        mujoco_engine.compile_spec(mujoco_engine.spec_string(WARNS, "warns"), "warns")
    assert len(compiled) == 1 and compiled[0].startswith("MuJoCo: ") and "settotalmass" in compiled[0]
    with pytest.warns(RuntimeWarning, match="^MuJoCo: .*settotalmass"):  # outside: the default, a Python warning
        mujoco_engine.load_string(WARNS, "warns")
    assert not (tmp_path / "MUJOCO_LOG.TXT").exists()


def test_loaders_refuse_in_one_line(tmp_path):
    with pytest.raises(UnderactError, match=r"^broken: MuJoCo could not load the model: (?!Error: )[^\n]+$"):
        mujoco_engine.load_string("<mujoco><worldbody><body><joint type='nope'/></body></worldbody></mujoco>",
                                  "broken")
    missing = tmp_path / "missing.xml"
    with pytest.raises(UnderactError, match=r"missing\.xml: MuJoCo could not load the model: [^\n]+$"):
        mujoco_engine.load_file(missing)


# --- the source check --------------------------------------------------------------------------------------------

#: Folders whose modules make up the package (scripts/ benchmarks call the engines directly on purpose, and
#: tests/ compare against them). `underact/gl.py` runs `import mujoco` and `MjModel.from_xml_string` only inside a
#: probe string run in a subprocess (choosing an OpenGL backend must not import MuJoCo here); a string is not code,
#: so it needs no exception below.
PACKAGE = ("underact", "envs", "agents")
ENGINES = ROOT / "underact" / "engines"
#: Justified exceptions, as (file relative to the repository, what): none today.
ALLOWED: set[tuple[str, str]] = set()


def _engine_uses(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {f"import {a.name}" for a in node.names if a.name.split(".")[0] in ("mujoco", "pydrake")}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] in ("mujoco", "pydrake"):
                found.add(f"from {node.module} import")
        elif isinstance(node, ast.Attribute) and node.attr in ("set_mju_user_warning", "from_xml_path",
                                                               "from_xml_string"):
            found.add(node.attr)
        elif isinstance(node, ast.Attribute) and node.attr in ("from_file", "from_string"):
            if isinstance(node.value, ast.Attribute | ast.Name) and "MjSpec" in ast.unparse(node.value):
                found.add(f"MjSpec.{node.attr}")
        elif isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if name.split(".")[-1] == "Parser":
                found.add("Parser(")
            if name.endswith("getLogger") and any(isinstance(a, ast.Constant) and a.value == "drake"
                                                  for a in node.args):
                found.add('logging.getLogger("drake")')
    return found


def test_only_the_engine_modules_import_hook_or_load_an_engine():
    offenders = []
    for folder in PACKAGE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if ENGINES in path.parents:
                continue
            rel = path.relative_to(ROOT).as_posix()
            for use in _engine_uses(ast.parse(path.read_text(encoding="utf-8"))):
                if (rel, use) not in ALLOWED:
                    offenders.append(f"{rel}: {use}")
    assert offenders == []


def test_the_engine_modules_are_where_the_check_looks():
    drake = _engine_uses(ast.parse((ENGINES / "drake.py").read_text(encoding="utf-8")))
    mujoco = _engine_uses(ast.parse((ENGINES / "mujoco.py").read_text(encoding="utf-8")))
    assert {"Parser(", 'logging.getLogger("drake")', "from pydrake.multibody.parsing import"} <= drake
    assert {"import mujoco", "set_mju_user_warning", "from_xml_path", "from_xml_string", "MjSpec.from_file"} <= mujoco
