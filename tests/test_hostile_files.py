"""Small hostile description files must never hang or blow up: include fan-outs, pipes and devices named as
meshes or included models, oversized assets, whitespace before the XML declaration, very long chains.

Each refusal is one line naming the referencing file and the reference; anything that could block (opening a
FIFO) runs in a thread with a deadline, so a regression shows up as a failure, not as a hung test run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from underact.description import (
    DescriptionError,
    actuation_rank,
    line_of,
    parse_description,
    read_text,
    safe_parse,
    vet_references,
)
from underact.description.generate import (
    mjcf_chain,
    mjcf_include_fanout,
    mjcf_with_mesh,
    sdf_chain,
    sdf_with_include,
    urdf_bare_chain,
    urdf_chain,
    urdf_with_mesh,
)
from underact.description.model import sparse_rank
from underact.description.sanitize import engine_urdf, removed_geometry
from underact.description.xml import MAX_ASSET_BYTES

GYM_ASSETS = Path(pytest.importorskip("gymnasium").__file__).parent / "envs" / "mujoco" / "assets"
DRAKE_EXAMPLES = Path(pytest.importorskip("pydrake").__file__).parent / "share" / "drake" / "examples"


def within(seconds: float, work):
    """`work()`'s result or exception, failing the test if it has not returned after `seconds` (a hang)."""
    outcome: list[object] = []

    def attempt() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed back to the test below
            outcome.append(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=seconds)
    assert not worker.is_alive(), f"did not return within {seconds} s (blocked on a pipe, or exponential work?)"
    return outcome[0]


def refusal(seconds: float, work) -> str:
    """The one-line DescriptionError message `work()` raises within `seconds`."""
    outcome = within(seconds, work)
    assert isinstance(outcome, DescriptionError), f"expected a refusal, got {outcome!r}"
    message = str(outcome)
    assert "\n" not in message
    return message


def classify_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "underact.cli", "classify", "--json", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


# --- whitespace before the XML declaration ----------------------------------------------------------------


def test_whitespace_before_the_declaration_is_accepted_with_true_line_numbers(tmp_path):
    path = tmp_path / "spaced.urdf"
    path.write_text("\n  \n\t" + urdf_chain(2, [1]))
    assert (parse_description(path).dof, parse_description(path).actuated) == (2, 1)
    root = safe_parse(path)
    assert line_of(root) == 4  # lines 1-2 blank, the declaration on line 3 after a tab, <robot> on line 4
    assert read_text(path).startswith('<?xml version="1.0"?>\n<robot name="chain2">')
    broken = tmp_path / "broken.urdf"
    broken.write_text("\n\n" + '<?xml version="1.0"?>\n<robot name="r">\n<link name="a"></robot>')
    assert "not well-formed XML at line 5, column 18" in refusal(5, lambda: safe_parse(broken))  # as in the file


def test_read_text_applies_every_rule_and_reencodes(tmp_path):
    latin = tmp_path / "latin.urdf"
    latin.write_bytes(
        b'\n<?xml version="1.0" encoding="ISO-8859-1"?>\n<robot name="caf\xe9"><link name="a"/></robot>\n'
    )
    text = read_text(latin)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>') and 'name="café"' in text
    fifo = tmp_path / "pipe.urdf"
    os.mkfifo(fifo)
    assert "is not a regular file" in refusal(5, lambda: read_text(fifo))
    bomb = tmp_path / "dtd.urdf"
    bomb.write_text('<!DOCTYPE robot><robot name="r"/>')
    assert "DTDs and entities are refused" in refusal(5, lambda: read_text(bomb))
    assert "no such file" in refusal(5, lambda: read_text(tmp_path / "missing.urdf"))
    assert "larger than the 10-byte limit" in refusal(5, lambda: read_text(latin, max_bytes=10))


# --- MJCF includes ------------------------------------------------------------------------------------------


def test_include_fanout_is_refused_quickly(tmp_path):
    """10 includes × 8 levels (a few kB) would expand to 10^8 files; the include budget stops it at 1000."""
    top = mjcf_include_fanout(tmp_path / "fan", fanout=10, levels=8)
    assert sum(p.stat().st_size for p in top.parent.iterdir()) < 4000
    for work in (lambda: parse_description(top), lambda: vet_references(top)):
        message = refusal(20, work)
        assert "the includes of robot.xml reach more than 1000 files (an include fan-out?); refused" in message
    result = classify_cli(str(top), cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "include fan-out" in result.stdout and "could not be classified" in result.stderr


def test_a_small_fanout_is_still_read(tmp_path):
    top = mjcf_include_fanout(tmp_path / "fan", fanout=3, levels=3)  # 3 + 9 includes: within the budget
    assert vet_references(top) == []
    assert (parse_description(top).dof, parse_description(top).actuated) == (2, 2)


def test_includes_are_bounded_in_total_bytes(tmp_path):
    big = tmp_path / "big.xml"
    big.write_text("<mujoco><!--" + "x" * 8_000_000 + "--></mujoco>")  # under the per-file cap
    top = tmp_path / "robot.xml"
    top.write_text(mjcf_chain(2, [1]).replace("<worldbody>", '<include file="big.xml"/>' * 3 + "<worldbody>"))
    message = refusal(30, lambda: vet_references(top))
    assert message.startswith("robot.xml: <include file='big.xml'>") and "more than 20000000 bytes" in message


def test_included_pipe_is_refused_not_opened(tmp_path):
    os.mkfifo(tmp_path / "part.xml")
    top = tmp_path / "robot.xml"
    top.write_text(mjcf_chain(2, [1]).replace("<worldbody>", '<include file="part.xml"/><worldbody>'))
    for work in (lambda: parse_description(top), lambda: vet_references(top)):
        message = refusal(10, work)
        assert message.startswith("robot.xml: <include file='part.xml'> -> ") and "is not a regular file" in message


# --- meshes and other assets --------------------------------------------------------------------------------


def test_mjcf_mesh_that_is_a_pipe_is_refused_not_opened(tmp_path):
    os.mkfifo(tmp_path / "pipe.stl")
    path = tmp_path / "robot.xml"
    path.write_text(mjcf_with_mesh("pipe.stl"))
    message = refusal(10, lambda: parse_description(path))
    assert message.startswith("robot.xml: <mesh file='pipe.stl'> -> ") and "is not a regular file" in message
    result = classify_cli(str(path), cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "<mesh file='pipe.stl'>" in result.stdout and "is not a regular file" in result.stdout


def test_mjcf_meshdir_and_devices(tmp_path):
    (tmp_path / "meshes").mkdir()
    os.mkfifo(tmp_path / "meshes" / "arm.stl")
    path = tmp_path / "robot.xml"
    text = mjcf_with_mesh("arm.stl").replace("<worldbody>", '<compiler meshdir="meshes"/><worldbody>', 1)
    path.write_text(text)
    message = refusal(10, lambda: vet_references(path))
    assert message.startswith("robot.xml: <mesh file='arm.stl'> -> ") and "meshes/arm.stl: is not a regular" in message
    device = tmp_path / "device.xml"
    device.write_text(mjcf_with_mesh("/dev/zero"))
    assert "<mesh file='/dev/zero'> -> /dev/zero: is not a regular file" in refusal(10, lambda: vet_references(device))


def test_oversized_asset_is_refused_without_reading_it(tmp_path):
    huge = tmp_path / "huge.stl"
    with huge.open("wb") as handle:
        handle.truncate(MAX_ASSET_BYTES + 1)  # sparse: no data written
    path = tmp_path / "robot.xml"
    path.write_text(mjcf_with_mesh("huge.stl"))
    assert f"larger than the {MAX_ASSET_BYTES}-byte limit" in refusal(10, lambda: vet_references(path))


def test_urdf_mesh_pipe_classifies_is_dropped_for_engines_and_refused_by_vetting(tmp_path):
    os.mkfifo(tmp_path / "pipe.stl")
    path = tmp_path / "robot.urdf"
    path.write_text(urdf_with_mesh("pipe.stl"))
    desc = within(10, lambda: parse_description(path))
    assert (desc.dof, desc.actuated) == (2, 2)  # classification never opens meshes
    assert removed_geometry(path) == ["pipe.stl"]  # the engine's copy drops it (the loader warns)
    assert "pipe.stl" not in within(10, lambda: engine_urdf(path))
    message = refusal(10, lambda: vet_references(path))
    assert message.startswith("robot.urdf: <mesh filename='pipe.stl'> -> ") and "is not a regular file" in message


def test_missing_and_remote_references_are_warnings(tmp_path):
    path = tmp_path / "robot.urdf"
    path.write_text(
        urdf_with_mesh("package://nowhere/mesh.stl").replace("</robot>", "")
        + (
            '<link name="extra"><visual><geometry><mesh filename="https://example.com/m.stl"/></geometry></visual>'
            "</link></robot>"
        )
    )
    assert vet_references(path) == [
        "robot.urdf: <mesh filename='package://nowhere/mesh.stl'>: not found",
        "robot.urdf: <mesh filename='https://example.com/m.stl'>: remote, never fetched",
    ]


# --- SDF includes -------------------------------------------------------------------------------------------


def test_sdf_include_of_a_pipe_is_refused(tmp_path):
    fifo = tmp_path / "model.sdf"
    os.mkfifo(fifo)
    path = tmp_path / "world.sdf"
    path.write_text(sdf_with_include(f"file://{fifo}"))
    message = refusal(10, lambda: vet_references(path))
    assert message.startswith(f"world.sdf: <uri>file://{fifo}</uri> -> ") and "is not a regular file" in message


def test_sdf_include_of_a_model_folder_is_followed(tmp_path):
    model = tmp_path / "models" / "arm"
    model.mkdir(parents=True)
    (model / "model.config").write_text("<model><name>arm</name><sdf version='1.7'>arm.sdf</sdf></model>")
    (model / "arm.sdf").write_text(sdf_chain(2, [1]))
    path = tmp_path / "world.sdf"
    path.write_text(sdf_with_include("models/arm"))
    assert vet_references(path) == []
    (model / "arm.sdf").unlink()
    os.mkfifo(model / "arm.sdf")
    message = refusal(10, lambda: vet_references(path))
    assert "world.sdf: <uri>models/arm</uri> -> model.config" in message and "is not a regular file" in message
    path.write_text(sdf_with_include("models/none"))
    assert vet_references(path) == ["world.sdf: <uri>models/none</uri>: not found"]


def test_shipped_models_vet_clean():
    """Drake's examples and Gymnasium's MuJoCo assets reference only regular files (missing ones warn)."""
    for path in sorted(GYM_ASSETS.glob("*.xml")):
        assert vet_references(path) == [], path.name
    for path in sorted(p for p in DRAKE_EXAMPLES.rglob("*") if p.suffix in (".urdf", ".sdf")):
        assert all("not found" in w or "remote" in w for w in vet_references(path)), path.name


# --- long chains and the sparse actuation rank -------------------------------------------------------------


def test_twenty_thousand_joint_chain_completes_with_the_right_counts(tmp_path):
    path = tmp_path / "long.urdf"
    path.write_text(urdf_bare_chain(20_000))
    assert path.stat().st_size < 2_500_000
    desc = within(60, lambda: parse_description(path))
    assert (desc.base, desc.dof, desc.actuated, desc.degree) == ("floating", 20_006, 20_000, 6)
    assert desc.bolted == {"dof": 20_000, "actuated": 20_000, "degree": 0, "class": "fully-actuated"}
    assert desc.unactuated_joints == []


def test_sparse_rank_equals_dense_rank():
    """Seeded random maps: unit columns, coupled blocks (rank-deficient ones too), tiny entries at the
    tolerance, repeated actuators, NaN rows; the block-wise rank must equal numpy's dense one."""
    rng = np.random.default_rng(0)
    for trial in range(200):
        n_rows, n_cols = int(rng.integers(0, 12)), int(rng.integers(1, 12))
        dense = np.zeros((n_rows, n_cols))
        for r in range(n_rows):
            kind = rng.random()
            if kind < 0.4:
                dense[r, rng.integers(n_cols)] = rng.normal()
            elif kind < 0.7:
                cols = rng.choice(n_cols, size=min(n_cols, int(rng.integers(2, 4))), replace=False)
                dense[r, cols] = rng.normal(size=len(cols))
            elif kind < 0.8 and r:
                dense[r] = dense[r - 1] * rng.normal()  # a dependent row
            elif kind < 0.9:
                dense[r, rng.integers(n_cols)] = 1e-12  # below the tolerance
        if trial % 7 == 0 and n_rows:
            dense[0, 0] = np.nan
        finite = dense[np.isfinite(dense).all(axis=1)]
        expected = 0 if finite.size == 0 else np.linalg.matrix_rank(finite, tol=1e-9 * max(1.0, np.abs(finite).max()))
        rows = [{c: float(row[c]) for c in np.flatnonzero(row)} for row in dense]
        assert sparse_rank(rows) == actuation_rank(dense) == expected, dense


def test_deep_nesting_is_refused_in_one_line(tmp_path):
    """100,000 nested elements (a few hundred kB) would overflow every recursive tree walk: refused at parse time."""
    from underact.cli import main

    path = tmp_path / "deep.urdf"
    path.write_text('<robot name="r">' + "<a>" * 100_000 + "</a>" * 100_000 + "</robot>")
    with pytest.raises(DescriptionError, match="nest more than 500 deep"):
        parse_description(path)
    assert main(["equation", str(path)]) == 2
