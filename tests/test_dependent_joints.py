"""Dependent joints are dependent everywhere (issue 24, item 2): a URDF mimic joint and an MJCF joint equality
reduce the coordinates `analyze` works on, so analyze, classify and view give one class and degree.

The oracle is the closed form of a planar two-link pendulum whose elbow follows the shoulder, q2 = c·q1 + o:
links of mass m, centre of mass 0.5 below each joint, inertia I about it, joints 1 apart. With θ1 = q1 and
θ1 + θ2 the links' angles, the kinetic energy on the one independent coordinate q1 gives

    M_r(q1) = 0.25 m + I + m (1 + 0.25 (1 + c)² + (1 + c) cos q2) + I (1 + c)²
    τg_r(q1) = −g (0.5 m sin q1 + m (sin q1 + 0.5 (1 + c) sin(q1 + q2)))

and an actuator on the elbow acts on q1 with moment arm c (virtual work).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from underact import load
from underact.analysis import analyze
from underact.cli import main
from underact.description import parse_description
from underact.plants.dependent import ReducedPlant, reduce_dependent

M, I, G = 1.0, 0.1, 9.81
C, O = 2.0, 0.1


def closed_form(q1: np.ndarray, c: float = C, o: float = O) -> tuple[np.ndarray, np.ndarray]:
    q2 = c * q1 + o
    Mr = 0.25 * M + I + M * (1 + 0.25 * (1 + c) ** 2 + (1 + c) * np.cos(q2)) + I * (1 + c) ** 2
    tau = -G * (0.5 * M * np.sin(q1) + M * (np.sin(q1) + 0.5 * (1 + c) * np.sin(q1 + q2)))
    return Mr, tau


def urdf(actuated: str) -> str:
    def link(name: str) -> str:
        return (f'<link name="{name}"><inertial><origin xyz="0 0 -0.5"/><mass value="{M}"/>'
                f'<inertia ixx="{I}" iyy="{I}" izz="{I}" ixy="0" ixz="0" iyz="0"/></inertial></link>')

    def joint(name: str, parent: str, child: str, origin: str, extra: str = "") -> str:
        return (f'<joint name="{name}" type="revolute"><parent link="{parent}"/><child link="{child}"/>'
                f'<origin xyz="{origin}"/><axis xyz="0 1 0"/><limit effort="5" lower="-3" upper="3" velocity="1"/>'
                f"{extra}</joint>")

    return (f'<robot name="mimic"><link name="world"/>{link("l1")}{link("l2")}'
            + joint("j1", "world", "l1", "0 0 0")
            + joint("j2", "l1", "l2", "0 0 -1", f'<mimic joint="j1" multiplier="{C}" offset="{O}"/>')
            + f'<transmission name="t"><type>transmission_interface/SimpleTransmission</type>'
              f'<joint name="{actuated}"/><actuator name="motor"/></transmission></robot>')


def mjcf(actuated: str) -> str:
    return f"""<mujoco model="coupled"><worldbody>
<body name="l1"><joint name="j1" type="hinge" axis="0 1 0"/>
<inertial pos="0 0 -0.5" mass="{M}" diaginertia="{I} {I} {I}"/>
<body name="l2" pos="0 0 -1"><joint name="j2" type="hinge" axis="0 1 0"/>
<inertial pos="0 0 -0.5" mass="{M}" diaginertia="{I} {I} {I}"/></body></body></worldbody>
<equality><joint joint1="j2" joint2="j1" polycoef="{O} {C} 0 0 0"/></equality>
<actuator><motor name="motor" joint="{actuated}"/></actuator></mujoco>"""


FILES = {"urdf": urdf, "xml": mjcf}


@pytest.mark.parametrize("suffix", ["urdf", "xml"])
@pytest.mark.parametrize("actuated,arm", [("j1", 1.0), ("j2", C)])
def test_reduced_terms_match_the_closed_form_on_both_engines(tmp_path, suffix, actuated, arm):
    path = tmp_path / f"coupled.{suffix}"
    path.write_text(FILES[suffix](actuated))
    q1 = np.linspace(-1.2, 1.3, 7)[:, None]
    Mr, tau = closed_form(q1[:, 0])
    for backend in ("drake", "mujoco"):
        plant = reduce_dependent(load(path, backend), str(path))
        assert isinstance(plant, ReducedPlant) and (plant.nq, plant.nv, plant.nu) == (1, 1, 1), backend
        t = plant.terms(q1, np.zeros_like(q1))
        np.testing.assert_allclose(t.M[:, 0, 0], Mr, rtol=1e-9, err_msg=backend)
        np.testing.assert_allclose(t.tau_g[:, 0], tau, rtol=1e-9, atol=1e-9, err_msg=backend)
        np.testing.assert_allclose(t.B[:, 0, 0], arm, err_msg=backend)
        report = analyze(plant, samples=20)
        assert (report.cls, report.degree, report.nv) == ("fully-actuated", 0, 1), backend
    desc = parse_description(path)
    assert (desc.cls, desc.degree, desc.dof) == ("fully-actuated", 0, 1)
    assert desc.dependent == {"j2": ("j1", C, O)}


def test_velocity_product_terms_follow_the_closed_form(tmp_path):
    """Cv on the reduced coordinate: the derivative of M_r, Cv_r = ½ M_r'(q1) q̇1² (one coordinate)."""
    path = tmp_path / "coupled.urdf"
    path.write_text(urdf("j1"))
    q1, v1, h = np.array([[0.4]]), np.array([[1.7]]), 1e-6
    dM = (closed_form(q1[0] + h)[0] - closed_form(q1[0] - h)[0]) / (2 * h)
    for backend in ("drake", "mujoco"):
        plant = reduce_dependent(load(path, backend), str(path))
        np.testing.assert_allclose(plant.terms(q1, v1).Cv[0, 0], 0.5 * dM[0] * v1[0, 0] ** 2, rtol=1e-6)


@pytest.mark.parametrize("suffix", ["urdf", "xml"])
def test_analyze_classify_and_view_agree_on_a_passive_coupled_chain(tmp_path, capsys, suffix):
    """A third, passive joint after the coupled pair: degree 1 from every command, not 2."""
    text = FILES[suffix]("j1")
    if suffix == "urdf":
        text = text.replace("</robot>", '<link name="l3"><inertial><origin xyz="0 0 -0.5"/><mass value="1"/>'
                            '<inertia ixx="0.1" iyy="0.1" izz="0.1" ixy="0" ixz="0" iyz="0"/></inertial></link>'
                            '<joint name="j3" type="continuous"><parent link="l2"/><child link="l3"/>'
                            '<origin xyz="0 0 -1"/><axis xyz="0 1 0"/></joint></robot>')
    else:
        text = text.replace("</body></body></worldbody>", '<body name="l3" pos="0 0 -1"><joint name="j3" '
                            'type="hinge" axis="0 1 0"/><inertial pos="0 0 -0.5" mass="1" '
                            'diaginertia="0.1 0.1 0.1"/></body></body></body></worldbody>')
    path = tmp_path / f"three.{suffix}"
    path.write_text(text)
    assert main(["classify", "--json", str(path)]) == 0
    assert '"degree": 1' in capsys.readouterr().out
    for backend in ("drake", "mujoco"):
        assert main(["analyze", str(path), "--backend", backend, "--json", "--samples", "5"]) == 0
        captured = capsys.readouterr()
        assert '"degree": 1' in captured.out and '"nv": 2' in captured.out, backend
        assert captured.err.count("dependent joint(s) (j2 = 2·j1 +0.1)") == 1
        out = tmp_path / f"{backend}.html"
        assert main(["view", str(path), "--backend", backend, "--out", str(out)]) == 0
        assert "degree 1" in capsys.readouterr().out
        page = out.read_text()
        assert f"{backend} (M⁻¹B over 21 configurations): underactuated, degree 1" in page


def test_locked_joint_is_held_at_its_offset(tmp_path):
    path = tmp_path / "locked.xml"
    path.write_text(mjcf("j1").replace('joint2="j1" polycoef="0.1 2.0 0 0 0"', 'polycoef="0.3 0 0 0 0"'))
    plant = reduce_dependent(load(path, "mujoco"), str(path))
    assert plant.nv == 1
    Mr, _ = closed_form(np.array([0.2]), c=0.0, o=0.3)
    np.testing.assert_allclose(plant.terms([0.2], [0.0]).M[0, 0], Mr[0], rtol=1e-9)


def test_files_without_dependent_joints_are_left_alone(tmp_path):
    plant = load("acrobot", "drake")
    assert reduce_dependent(plant, "acrobot") is plant
    path = Path(tmp_path / "plain.urdf")
    path.write_text(urdf("j1").replace(f'<mimic joint="j1" multiplier="{C}" offset="{O}"/>', ""))
    plant = load(path, "mujoco")
    assert reduce_dependent(plant, str(path)) is plant
