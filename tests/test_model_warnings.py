"""Warnings reach the user (issue 24, item 4): every change a backend made to the model is one
`underact: warning:` line in every command, the engines' parser messages are counted (each with --verbose), and
an invalid inertia is repaired once, the same way, for both engines (--strict refuses it).

Right answers are independent: the mass matrix of a one-joint body in closed form (m r² + I_zz), the count of
what Drake's parser says read from Drake's own log on the untouched file.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from pydrake.multibody.parsing import Parser
from pydrake.multibody.plant import MultibodyPlant

from underact import load
from underact.cli import main
from underact.errors import UnderactError


def spinner(ixx: float, iyy: float, izz: float, mass: float = 1.0, extra: str = "") -> str:
    """One body turning about the vertical z axis, its centre of mass 0.5 off the axis (gravity does no work)."""
    return (f'<robot name="spinner"><link name="world"/><link name="body"><inertial><origin xyz="0.5 0 0"/>'
            f'<mass value="{mass}"/><inertia ixx="{ixx}" iyy="{iyy}" izz="{izz}" ixy="0" ixz="0" iyz="0"/>'
            '</inertial></link><joint name="spin" type="continuous"><parent link="world"/><child link="body"/>'
            f'<axis xyz="0 0 1"/>{extra}</joint></robot>')


def lines(err: str, text: str) -> list[str]:
    return [line for line in err.splitlines() if text in line]


def test_invalid_inertia_is_repaired_once_the_same_way_on_both_engines(tmp_path, capsys):
    path = tmp_path / "spinner.urdf"
    path.write_text(spinner(1.0, 1.0, 3.0))  # 1 + 1 < 3: no body has these principal moments
    expected = 1.0 * 0.5**2 + 2.0  # m r² + I_zz, with I_zz lowered to I_xx + I_yy
    for backend in ("drake", "mujoco"):
        plant = load(path, backend)
        np.testing.assert_allclose(plant.terms([0.3], [0.0]).M, [[expected]], rtol=1e-12, err_msg=backend)
        assert main(["equation", str(path), "--backend", backend, "--json"]) == 0
        err = capsys.readouterr().err
        assert len(lines(err, "inertia repaired for both engines")) == 1, err
        assert all(line.startswith("underact: warning: ") for line in err.splitlines())
    assert main(["crosscheck", str(path), "--states", "5"]) == 0  # the engines answer the same question
    captured = capsys.readouterr()
    assert "the engines agree" in captured.out
    assert len(lines(captured.err, "inertia repaired")) == 1  # a line both engines share is printed once


def test_strict_refuses_an_invalid_inertia_in_one_line(tmp_path, capsys):
    path = tmp_path / "spinner.urdf"
    path.write_text(spinner(1.0, 1.0, 3.0))
    for backend in ("drake", "mujoco"):
        with pytest.raises(UnderactError, match="--strict refuses it"):
            load(path, backend, strict=True)
        assert main(["analyze", str(path), "--backend", backend, "--strict"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("underact: error: spinner.urdf: link 'body'")
    path.write_text(spinner(1.0, 1.0, 1.5))  # a valid inertia passes --strict untouched
    assert main(["equation", str(path), "--strict"]) == 0
    assert "repaired" not in capsys.readouterr().err


def test_mass_added_to_a_massless_link_is_warned(tmp_path, capsys):
    path = tmp_path / "massless.urdf"
    path.write_text(spinner(0.1, 0.1, 0.1, mass=0.0))
    for backend in ("drake", "mujoco"):
        assert main(["equation", str(path), "--backend", backend]) == 0
        err = capsys.readouterr().err
        assert len(lines(err, "mass set to 1e-12 kg on both engines")) == 1, err


def drake_own_messages(text: str) -> list[str]:
    """What Drake's parser logs for the untouched file (the oracle of the count)."""
    caught: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            caught.append(record.getMessage())

    logger, handler = logging.getLogger("drake"), Collect(logging.WARNING)
    logger.addHandler(handler)
    try:
        plant = MultibodyPlant(0.0)
        Parser(plant).AddModelsFromString(text, "urdf")
    finally:
        logger.removeHandler(handler)
    return caught


def with_friction() -> str:
    """Two joints with friction, which Drake's plant does not model: its parser says so once for each."""
    text = spinner(0.1, 0.1, 0.1, extra='<dynamics friction="0.2"/>')
    return text.replace("</robot>", '<link name="tip"><inertial><mass value="1"/><inertia ixx="0.1" iyy="0.1" '
                        'izz="0.1" ixy="0" ixz="0" iyz="0"/></inertial></link><joint name="tip" type="revolute">'
                        '<parent link="body"/><child link="tip"/><axis xyz="0 1 0"/><dynamics friction="0.3"/>'
                        '<limit effort="1" lower="-1" upper="1" velocity="1"/></joint></robot>')


def test_drake_parser_messages_are_counted_and_shown_with_verbose(tmp_path, capsys):
    text = with_friction()
    path = tmp_path / "friction.urdf"
    path.write_text(text)
    expected = len(drake_own_messages(text))
    assert expected == 2  # one per joint with friction, which Drake's plant does not model
    assert len(load(path, "drake").parser_messages) == expected
    assert main(["analyze", str(path), "--samples", "3"]) == 0
    err = capsys.readouterr().err
    assert len(lines(err, f"drake reported {expected} message(s) while loading the model (--verbose shows them)")) == 1
    assert "WARNING:drake" not in err and "friction" not in err
    assert main(["analyze", str(path), "--samples", "3", "--verbose"]) == 0
    err = capsys.readouterr().err
    assert len(lines(err, "underact: drake: ")) == expected and len(lines(err, "friction")) == expected



def test_view_reports_the_warnings_analyze_reports(tmp_path, capsys):
    """`view` reads the file as the plants do (one Drake loading path): the same parser messages, the same repair,
    one `underact: warning:` line each, word for word."""
    path = tmp_path / "friction.urdf"
    path.write_text(with_friction().replace('ixx="0.1" iyy="0.1" izz="0.1"', 'ixx="1" iyy="1" izz="3"', 1))
    expected = drake_own_messages(with_friction())  # the friction notes; the invalid inertia is repaired first
    for verbose in ([], ["--verbose"]):
        assert main(["analyze", str(path), "--samples", "3", *verbose]) == 0
        analyzed = capsys.readouterr().err.splitlines()
        assert main(["view", str(path), "--out", str(tmp_path / "friction.html"), *verbose]) == 0
        viewed = capsys.readouterr().err.splitlines()
        drake = [line for line in analyzed if "drake" in line or "repaired" in line]
        assert len(drake) == (1 + len(expected) if verbose else 2), analyzed  # repair, then count or each
        assert [line for line in viewed if line in drake] == drake, viewed  # each once, in the same order
        assert all(line.startswith("underact: ") for line in viewed) and "WARNING:drake" not in "".join(viewed)
    assert [line.removeprefix("underact: drake: ") for line in drake[1:]] == expected

MJCF = """<mujoco model="geared"><compiler settotalmass="{total}"/><worldbody><body name="a">
<joint name="j1" type="hinge" axis="0 1 0"/><inertial pos="0 0 -0.5" mass="1" diaginertia="0.1 0.1 0.1"/>
</body></worldbody><actuator><motor name="m1" joint="j1" gear="{gear}"/></actuator></mujoco>"""


def test_gear_applied_and_settotalmass_ignored_on_drake_are_warned(tmp_path, capsys):
    path = tmp_path / "geared.xml"
    path.write_text(MJCF.format(total=3, gear=7))
    drake = load(path, "drake")
    np.testing.assert_allclose(drake.terms([0.0], [0.0]).B, [[7.0]])
    assert main(["equation", str(path), "--backend", "drake"]) == 0
    err = capsys.readouterr().err
    assert len(lines(err, "MJCF gear and gain applied to Drake's B (its parser drops them): 'm1' ×7")) == 1
    assert len(lines(err, "settotalmass> is ignored by Drake")) == 1
    assert main(["equation", str(path), "--backend", "mujoco"]) == 0
    err = capsys.readouterr().err
    assert "ignored by Drake" not in err and "gear" not in err


def test_builtins_load_without_warnings(capsys):
    for backend in ("analytic", "drake", "mujoco"):
        assert main(["analyze", "acrobot", "--backend", backend, "--samples", "3"]) == 0
        assert capsys.readouterr().err == ""
