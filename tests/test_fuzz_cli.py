"""scripts/fuzz_cli.py: seeded cases, real processes killed on a hang, and a small clean run over every command."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "fuzz_cli.py"


@pytest.fixture(scope="module")
def fuzz():
    spec = importlib.util.spec_from_file_location("fuzz_cli", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_cli"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_cases_depend_on_seed_and_index_only(fuzz):
    fx = fuzz.Fixtures(models=["a.urdf", "b.xml"], descriptions=["a.urdf"], runs=["run_ok"])
    first = [fuzz.make_case(0, i, fx) for i in range(50)]
    assert first == [fuzz.make_case(0, i, fx) for i in range(50)]
    assert first != [fuzz.make_case(1, i, fx) for i in range(50)]
    assert fuzz.make_case(0, 37, fx) == first[37]  # one case reproduces without the others
    assert [argv[0] for argv in first[:8]] == list(fuzz.COMMANDS)


def test_failure_kinds(fuzz):
    assert fuzz.failure_kind(2, "underact: error: argument --seed: must be a non-negative integer; got '-1'\n") is None
    assert fuzz.failure_kind(1, 'Traceback (most recent call last):\n  File "x"\nValueError\n') == "traceback"
    assert fuzz.failure_kind(1, "underact: internal error: ValueError: x (please report this)\n") == "internal"
    assert fuzz.failure_kind(1, "underact: error: the engines disagree\n") is None
    assert fuzz.failure_kind(-9, "") == "exit -9"
    assert fuzz.failure_kind(None, "") == "hang"


def test_hang_is_killed_with_its_process_group(fuzz, tmp_path):
    """A real `python -m underact.cli` run given 0.05 s is killed and reported as a hang; a quick one is not."""
    code, _, _ = fuzz.run_case(["crosscheck", "acrobot"], tmp_path, timeout=0.05, exec_mode=True)
    assert code is None
    code, out, err = fuzz.run_case(["equation", "pendulum", "--backend", "analytic", "--json"], tmp_path, 60.0, True)
    assert code == 0 and '"nv": 1' in out and err == ""


def test_small_seeded_run_is_clean(tmp_path):
    """60 cases over all eight commands, hostile files and run folders: exit codes 0/1/2, no traceback, no hang."""
    p = subprocess.run(
        [sys.executable, str(SCRIPT), "--cases", "60", "--seed", "3", "--jobs", "2", "--workdir", str(tmp_path / "w")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "cases                        60" in p.stdout, p.stdout + p.stderr
    assert p.returncode == 0, p.stdout
    assert not (tmp_path / "w" / "failures.txt").exists()
