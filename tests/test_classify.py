"""`underact classify`: table and JSON-line output, flags, exit codes, and hostile files without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from underact.cli import main
from underact.description.generate import billion_laughs, external_entity, mjcf_chain, sdf_chain, urdf_chain

SUCCESS_KEYS = [
    "path",
    "ok",
    "name",
    "format",
    "class",
    "base",
    "dof",
    "actuated",
    "degree",
    "unactuated_joints",
    "actuation_source",
    "warnings",
]


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    texts = {
        "acro.urdf": urdf_chain(2, [2]),
        "arm.urdf": urdf_chain(3, [1, 2, 3], fixed_base=False),
        "bare.urdf": urdf_chain(2, [], with_transmissions=False),
        "cart.sdf": sdf_chain(2, [1]),
        "tendon.xml": mjcf_chain(3, [], tendon=True),
        "bomb.urdf": billion_laughs(),
        "xxe.urdf": external_entity(str(tmp_path / "secret.txt")),
        "trunc.urdf": urdf_chain(2, [1])[:200],
        "empty.urdf": "",
    }
    (tmp_path / "secret.txt").write_text("TOPSECRET")
    paths = {}
    for name, text in texts.items():
        paths[name] = tmp_path / name
        paths[name].write_text(text)
    return paths


def run_json(capsys, *args: str) -> tuple[int, list[dict]]:
    code = main(["classify", "--json", *args])
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines()]


def test_json_lines_schema_and_values(capsys, files):
    paths = [str(files[n]) for n in ("acro.urdf", "arm.urdf", "bare.urdf", "cart.sdf", "tendon.xml")]
    code, records = run_json(capsys, *paths)
    assert code == 0 and len(records) == 5
    assert all(list(r) == SUCCESS_KEYS and r["ok"] is True for r in records)
    summary = [(r["format"], r["class"], r["base"], r["dof"], r["actuated"], r["degree"]) for r in records]
    assert summary == [
        ("urdf", "underactuated", "fixed", 2, 1, 1),
        ("urdf", "underactuated", "floating", 9, 3, 6),
        ("urdf", "fully-actuated", "fixed", 2, 2, 0),
        ("sdf", "underactuated", "fixed", 2, 1, 1),
        ("mjcf", "underactuated", "fixed", 3, 1, 2),
    ]
    assert records[0]["unactuated_joints"] == ["joint1"] and records[0]["actuation_source"] == "transmission"
    assert records[2]["actuation_source"] == "assumed" and records[2]["warnings"]


def test_failures_are_reported_and_exit_2(capsys, files):
    names = ["acro.urdf", "bomb.urdf", "xxe.urdf", "trunc.urdf", "empty.urdf"]
    code, records = run_json(capsys, *[str(files[n]) for n in names], str(files["acro.urdf"].parent / "nope.urdf"))
    assert code == 2
    assert [r["ok"] for r in records] == [True, False, False, False, False, False]
    for record in records[1:]:
        assert list(record) == ["path", "ok", "error"] and "\n" not in record["error"]
    errors = [r["error"] for r in records[1:]]
    assert "entities are refused" in errors[0] and "entities are refused" in errors[1]
    assert "TOPSECRET" not in errors[1]
    assert "not well-formed XML at line" in errors[2] and "file is empty" in errors[3] and "no such file" in errors[4]


def test_base_and_actuation_flags(capsys, files):
    code, records = run_json(
        capsys, "--base", "fixed", "--actuation", "assumed", str(files["arm.urdf"]), str(files["acro.urdf"])
    )
    assert code == 0
    assert [(r["base"], r["dof"], r["actuated"], r["class"]) for r in records] == [
        ("fixed", 3, 3, "fully-actuated"),
        ("fixed", 2, 2, "fully-actuated"),
    ]
    assert all(r["actuation_source"] == "assumed" for r in records)
    code, records = run_json(capsys, "--base", "floating", str(files["acro.urdf"]))
    assert (records[0]["base"], records[0]["dof"], records[0]["degree"]) == ("floating", 8, 7)


def test_table_output_with_bolted_verdict(capsys, files):
    code = main(["classify", str(files["arm.urdf"]), str(files["acro.urdf"]), str(files["empty.urdf"])])
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert code == 2
    assert lines[0].split() == [
        "file",
        "class",
        "base",
        "dof",
        "actuated",
        "degree",
        "if",
        "bolted",
        "passive",
        "joints",
        "warnings",
    ]
    assert lines[1].split()[1:7] == ["underactuated", "floating", "9", "3", "6", "fully-actuated"]
    assert lines[2].split()[1:8] == ["underactuated", "fixed", "2", "1", "1", "-", "joint1"]
    assert "error:" in lines[3] and "file is empty" in lines[3]
    assert "1 of 3 file(s) could not be classified" in captured.err


def test_verbose_lists_warnings(capsys, files):
    assert main(["classify", "--verbose", str(files["bare.urdf"])]) == 0
    assert "warning: no <transmission> or <ros2_control>" in capsys.readouterr().out


def test_progress_bar_for_many_files(capsys, files):
    paths = [str(files["acro.urdf"])] * 6
    assert main(["classify", *paths]) == 0
    assert "classify" in capsys.readouterr().err


def test_help_states_semantics(capsys):
    with pytest.raises(SystemExit) as info:
        main(["classify", "--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    for phrase in ("mimic joint is dependent", "passive_joint", 'effort="0"', "floating base adds 6", "exit status"):
        assert phrase in out


def test_bad_flag_is_one_line_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["classify", "--base", "welded", "x.urdf"])
    assert info.value.code == 2
    assert capsys.readouterr().err.startswith("underact: error: argument --base")


def test_command_line_never_prints_a_traceback(files, tmp_path):
    args = [str(files[n]) for n in ("bomb.urdf", "xxe.urdf", "trunc.urdf")] + [str(tmp_path)]
    result = subprocess.run([sys.executable, "-m", "underact.cli", "classify", *args], capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.strip().endswith("underact: error: 4 of 4 file(s) could not be classified")


def test_leading_whitespace_and_mjcf_equality_in_json(capsys, tmp_path):
    """A blank line before `<?xml ...?>` is accepted (as Drake does); an MJCF joint equality is reported in
    the warnings with the dof change it makes."""
    spaced = tmp_path / "spaced.urdf"
    spaced.write_text("\n   \n" + urdf_chain(2, [2]))
    coupled = tmp_path / "coupled.xml"
    equality = '<equality><joint name="pair" joint1="joint2" joint2="joint1"/></equality><actuator>'
    coupled.write_text(mjcf_chain(2, [1]).replace("<actuator>", equality))
    code, records = run_json(capsys, str(spaced), str(coupled))
    assert code == 0
    assert [(r["ok"], r["dof"], r["actuated"]) for r in records] == [(True, 2, 1), (True, 1, 1)]
    assert "equality 'pair' couples joint2 to joint1: counted as dependent (dof 2 -> 1)" in records[1]["warnings"]
