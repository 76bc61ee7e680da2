"""One actuation model (issue 24, item 1): the same actuators from classify, analyze and both engines.

Hand-written robots; each right answer is computed independently: the closed-form coupling of a transmission,
Drake's own URDF parser on the untouched file, MuJoCo's own actuator pipeline (`qfrc_actuator` for a control).
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import mujoco
import numpy as np
import pytest
from pydrake.multibody.parsing import Parser
from pydrake.multibody.plant import MultibodyPlant

from underact import load
from underact.analysis import analyze
from underact.cli import main
from underact.description import Actuator, actuators, parse_description
from underact.plants.dependent import reduce_dependent

ENGINES = ("drake", "mujoco")


def link(name: str) -> str:
    return (f'<link name="{name}"><inertial><origin xyz="0 0 -0.5"/><mass value="1"/>'
            '<inertia ixx="0.1" iyy="0.1" izz="0.1" ixy="0" ixz="0" iyz="0"/></inertial></link>')


def joint(name: str, parent: str, child: str, extra: str = "") -> str:
    return (f'<joint name="{name}" type="revolute"><parent link="{parent}"/><child link="{child}"/>'
            '<origin xyz="0 0 -1"/><axis xyz="0 1 0"/><limit effort="5" lower="-3" upper="3" velocity="1"/>'
            f"{extra}</joint>")


def chain(n: int, transmissions: str = "", extra: dict[int, str] | None = None) -> str:
    """A planar n-link pendulum bolted to the world, joints j1..jn, with the given transmissions."""
    extra = extra or {}
    body = '<link name="world"/>' + "".join(link(f"l{k}") for k in range(n + 1))
    body += '<joint name="w" type="fixed"><parent link="world"/><child link="l0"/></joint>'
    body += "".join(joint(f"j{k}", f"l{k - 1}", f"l{k}", extra.get(k, "")) for k in range(1, n + 1))
    return f'<robot name="chain">{body}{transmissions}</robot>'


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def engine_B(path: Path, mode: str = "auto") -> dict[str, np.ndarray]:
    out = {}
    for backend in ENGINES:
        plant = load(path, backend, actuation=mode)
        out[backend] = plant.terms(np.zeros(plant.nq), np.zeros(plant.nv)).B
    return out


def verdicts(path: Path, mode: str = "auto") -> set[tuple[str, int]]:
    """(class, degree) from classify and from analyze on both engines (dependent joints reduced, as the CLI)."""
    desc = parse_description(path, actuation=mode)
    found = {(desc.cls, desc.degree)}
    for backend in ENGINES:
        plant = reduce_dependent(load(path, backend, actuation=mode), str(path), "auto", mode)
        report = analyze(plant, samples=10)
        found.add((report.cls, report.degree))
    return found


ROS1_ATTRIBUTE = ('<transmission name="t1" type="pr2_mechanism_model/SimpleTransmission"><actuator name="m1"/>'
                  '<joint name="j1"/><mechanicalReduction>1</mechanicalReduction></transmission>')


def test_ros1_type_attribute_gives_the_actuator_drake_parses_on_both_engines(tmp_path):
    path = write(tmp_path, "ros1.urdf", chain(2, ROS1_ATTRIBUTE))
    drake_own = MultibodyPlant(0.0)  # Drake's own parser on the untouched file is the oracle
    Parser(drake_own).AddModels(str(path))
    drake_own.Finalize()
    expected = drake_own.MakeActuationMatrix()
    assert expected.shape == (2, 1)
    for backend, B in engine_B(path).items():
        np.testing.assert_array_equal(B, expected, err_msg=backend)
    assert [a.name for a in actuators(parse_description(path))] == ["m1"]
    assert verdicts(path) == {("underactuated", 1)}


def test_one_actuator_naming_two_joints_is_one_column_with_its_reductions(tmp_path):
    pr2_gripper = ('<transmission name="grip"><type>transmission_interface/SimpleTransmission</type>'
                   '<joint name="j1"><mechanicalReduction>2.5</mechanicalReduction></joint>'
                   '<joint name="j2"><mechanicalReduction>-0.5</mechanicalReduction></joint>'
                   '<actuator name="gripper_motor"/></transmission>')
    path = write(tmp_path, "gripper.urdf", chain(2, pr2_gripper))
    desc = parse_description(path)
    assert [(a.name, a.joints, a.reductions) for a in desc.actuators] == [
        ("gripper_motor", ("j1", "j2"), (2.5, -0.5))
    ]
    assert (desc.actuated, desc.degree) == (1, 1)  # counted once, not twice
    for backend, B in engine_B(path).items():
        np.testing.assert_allclose(B, [[2.5], [-0.5]], err_msg=backend)
    plant = load(path, "drake")
    assert any("Drake cannot represent 1 actuator" in w and "gripper_motor" in w for w in plant.warnings)
    mj = load(path, "mujoco")  # MuJoCo's own pipeline: qfrc_actuator for ctrl = 2
    mj.data.ctrl[:] = 2.0
    mujoco.mj_forward(mj.model, mj.data)
    np.testing.assert_allclose(mj.data.qfrc_actuator, [5.0, -1.0])
    assert verdicts(path) == {("underactuated", 1)}


def test_differential_transmission_is_its_coupling(tmp_path):
    ar1, ar2, jr1, jr2 = 2.0, 3.0, 1.5, 0.5
    differential = (
        '<transmission name="wrist"><type>transmission_interface/DifferentialTransmission</type>'
        f'<actuator name="a2"><role>actuator2</role><mechanicalReduction>{ar2}</mechanicalReduction></actuator>'
        f'<actuator name="a1"><role>actuator1</role><mechanicalReduction>{ar1}</mechanicalReduction></actuator>'
        f'<joint name="j1"><role>joint1</role><mechanicalReduction>{jr1}</mechanicalReduction></joint>'
        f'<joint name="j2"><role>joint2</role><mechanicalReduction>{jr2}</mechanicalReduction></joint>'
        "</transmission>")
    path = write(tmp_path, "wrist.urdf", chain(2, differential))
    # ROS1 transmission_interface: τ_j1 = jr1 (ar1 u1 + ar2 u2), τ_j2 = jr2 (ar1 u1 − ar2 u2)
    expected = np.array([[jr1 * ar1, jr1 * ar2], [jr2 * ar1, -jr2 * ar2]])
    for backend, B in engine_B(path).items():
        np.testing.assert_allclose(B, expected, err_msg=backend)
    assert load(path, "drake").actuator_names == ["a1", "a2"]
    assert verdicts(path) == {("fully-actuated", 0)}


def test_no_transmissions_assumes_every_joint_everywhere_with_one_warning(tmp_path, capsys):
    path = write(tmp_path, "bare.urdf", chain(3))
    for backend, B in engine_B(path).items():
        np.testing.assert_array_equal(B, np.eye(3), err_msg=backend)
    assert verdicts(path) == {("fully-actuated", 0)}
    assert verdicts(path, "declared") == {("underactuated", 3)}
    assert verdicts(path, "assumed") == {("fully-actuated", 0)}
    assert main(["analyze", str(path), "--samples", "5"]) == 0
    err = capsys.readouterr().err
    assert err.count("every independent joint assumed actuated") == 1


def test_solo12_gets_one_verdict_from_classify_analyze_and_view(tmp_path, capsys):
    try:
        dist = importlib.metadata.distribution("example-robot-data")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("example-robot-data is not installed (a test extra)")
    path = Path(dist.locate_file("cmeel.prefix/share/example-robot-data/robots/solo_description/robots/solo12.urdf"))
    assert verdicts(path) == {("underactuated", 6)}  # 12 leg joints driven, the floating base's 6 not
    out = tmp_path / "solo.html"
    assert main(["view", str(path), "--backend", "drake", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "degree 6" in captured.out
    page = out.read_text()
    assert "drake (M⁻¹B over" in page and "underactuated, degree 6" in page and "degree 18" not in page


def mjcf(actuators_xml: str, option: str = "") -> str:
    return f"""<mujoco model="two"><option>{option}</option><worldbody>
<body name="a"><joint name="j1" type="hinge" axis="0 1 0"/><inertial pos="0 0 -0.5" mass="1" diaginertia="0.1 0.1 0.1"/>
<body name="b" pos="0 0 -1"><joint name="j2" type="hinge" axis="0 1 0"/>
<inertial pos="0 0 -0.5" mass="1" diaginertia="0.1 0.1 0.1"/></body></body></worldbody>
<actuator>{actuators_xml}</actuator></mujoco>"""


def mujoco_qfrc(path: Path, ctrl: list[float]) -> np.ndarray:
    """MuJoCo's own generalized actuator force for `ctrl` at q = 0, v = 0 (where a position's bias is zero)."""
    model = mujoco.MjModel.from_xml_path(str(path))
    data = mujoco.MjData(model)
    data.ctrl[:] = ctrl
    mujoco.mj_forward(model, data)
    return data.qfrc_actuator.copy()


@pytest.mark.parametrize(
    "name,xml,option,silent",
    [
        ("zero_gain", '<general name="g" joint="j1" gainprm="0"/><motor name="m" joint="j2"/>', "", "gain 0"),
        ("kp_zero", '<position name="p" joint="j1" kp="0"/><position name="m" joint="j2" kp="30"/>', "", "gain 0"),
        ("disabled", '<motor name="g" joint="j1"/><motor name="m" joint="j2"/>', '<flag actuation="disable"/>',
         "actuation=\"disable\""),
        ("group", '<motor name="g" joint="j1" group="3"/><motor name="m" joint="j2"/>', "", "disabled group"),
    ],
)
def test_actuators_without_authority_have_zero_columns_and_a_warning(tmp_path, capsys, name, xml, option, silent):
    text = mjcf(xml, option)
    if name == "group":
        text = text.replace("<option>", '<option actuatorgroupdisable="3">')
    path = write(tmp_path, f"{name}.xml", text)
    ctrl = [1.0, 1.0]
    expected = np.zeros((2, 2))
    for k in range(2):  # MuJoCo's own pipeline, one actuator at a time, is the oracle of B's columns
        expected[:, k] = mujoco_qfrc(path, np.eye(2)[k])
    assert not expected[:, 0].any()
    for backend, B in engine_B(path).items():
        np.testing.assert_allclose(B, expected, err_msg=backend)
        np.testing.assert_allclose(B @ ctrl, mujoco_qfrc(path, ctrl), err_msg=backend)
    desc = parse_description(path)
    assert desc.actuators[0].gain == 0.0 and any(silent in w and "no authority" in w for w in desc.warnings)
    degree = 2 if name == "disabled" else 1
    assert verdicts(path) == {("underactuated", degree)}
    for backend in ENGINES:
        assert main(["analyze", str(path), "--backend", backend, "--samples", "3"]) == 0
        err = capsys.readouterr().err
        assert err.count("no authority") == 1, err


def test_position_actuator_u_is_the_set_point_scaled_by_kp(tmp_path):
    path = write(tmp_path, "servo.xml", mjcf('<position name="p1" joint="j1" kp="40"/><motor name="m2" joint="j2" '
                                             'gear="3"/>'))
    expected = np.column_stack([mujoco_qfrc(path, [1.0, 0.0]), mujoco_qfrc(path, [0.0, 1.0])])
    np.testing.assert_allclose(expected, [[40.0, 0.0], [0.0, 3.0]])
    for backend, B in engine_B(path).items():
        np.testing.assert_allclose(B, expected, err_msg=backend)
    assert any("×40" in w and "×3" in w for w in load(path, "drake").warnings)


def test_actuation_flag_on_every_command(tmp_path, capsys):
    path = write(tmp_path, "bare.urdf", chain(2))
    for command in (["classify"], ["analyze", "--samples", "3"], ["equation"], ["crosscheck", "--states", "3"],
                    ["view", "--out", str(tmp_path / "v.html")]):
        argv = command[:1] + [str(path)] + command[1:] + ["--actuation", "declared"]
        assert main(argv) == 0, argv
        capsys.readouterr()
    assert main(["classify", "--actuation", "declared", "--json", str(path)]) == 0
    assert '"degree": 2' in capsys.readouterr().out
    assert main(["equation", str(path), "--actuation", "declared", "--json"]) == 0
    assert '"nu": 0' in capsys.readouterr().out
    assert main(["equation", "acrobot", "--actuation", "assumed"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("underact: error:") and err.count("\n") == 1


def test_actuator_dataclass_column():
    a = Actuator("m", ("j1", "j2"), (2.0, -1.0), gain=3.0)
    assert a.column == {("j1", 0): 6.0, ("j2", 0): -3.0} and not a.simple
    assert Actuator("m", ("j1",), (1.0,)).simple


def test_planar_joint_assumed_actuated_on_both_engines(tmp_path):
    """A URDF planar joint: three coordinates (Drake's vx, vy, wz; MuJoCo's three one-DoF joints), three
    assumed actuators, B = I on both engines, fully actuated everywhere."""
    path = write(tmp_path, "planar.urdf", '<robot name="p"><link name="world"/>' + link("b") + (
        '<joint name="pj" type="planar"><parent link="world"/><child link="b"/><axis xyz="0 0 1"/></joint></robot>'))
    for backend, B in engine_B(path).items():
        np.testing.assert_array_equal(B, np.eye(3), err_msg=backend)
    assert verdicts(path) == {("fully-actuated", 0)}
    assert any("Drake cannot represent 3 actuator(s)" in w for w in load(path, "drake").warnings)


def test_view_refuses_actuation_on_a_builtin(tmp_path, capsys):
    assert main(["view", "acrobot", "--actuation", "assumed", "--out", str(tmp_path / "a.html")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_analyze_refuses_a_model_where_nothing_moves(tmp_path, capsys):
    path = write(tmp_path, "still.urdf", '<robot name="still"><link name="world"/>' + link("b") + (
        '<joint name="w" type="fixed"><parent link="world"/><child link="b"/></joint></robot>'))
    for backend in ENGINES:
        assert main(["analyze", str(path), "--backend", backend]) == 2
        assert capsys.readouterr().err == "underact: error: still: nothing moves (no joints, and the base is bolted " \
            "to the world); nothing to analyze\n"


def test_a_nearly_massless_base_does_not_spoil_the_rank(tmp_path):
    """pybullet's cart-pole pattern: a floating slide bar of mass 0 with an inertia (given 1e-12 kg on both
    engines), M's condition number near 1e12; the rank of M⁻¹B is B's (M is invertible): degree 6 everywhere."""
    bar = ('<link name="bar"><inertial><mass value="0"/><inertia ixx="1" iyy="1" izz="1" ixy="0" ixz="0" iyz="0"/>'
           "</inertial></link>")
    text = ('<robot name="cp">' + bar + link("cart") + link("pole")
            + '<joint name="slide" type="prismatic"><parent link="bar"/><child link="cart"/><axis xyz="1 0 0"/>'
            '<limit effort="10" lower="-5" upper="5" velocity="1"/></joint>'
            + joint("hinge", "cart", "pole") + "</robot>")
    path = write(tmp_path, "cartpole.urdf", text)
    assert verdicts(path) == {("underactuated", 6)}


def test_ros2_control_joints_are_actuators_on_both_engines(tmp_path):
    """Neither engine's parser reads <ros2_control>; the actuation model gives both the commanded joint."""
    block = ('<ros2_control name="hw" type="system"><joint name="j2"><command_interface name="effort"/>'
             '<state_interface name="position"/></joint><joint name="j1"><state_interface name="position"/>'
             "</joint></ros2_control>")
    path = write(tmp_path, "ros2.urdf", chain(2, block))
    for backend, B in engine_B(path).items():
        np.testing.assert_array_equal(B, [[0.0], [1.0]], err_msg=backend)
    assert verdicts(path) == {("underactuated", 1)}


def test_mjcf_without_actuators_and_assumed_mode(tmp_path):
    bare = write(tmp_path, "bare.xml", mjcf(""))
    for backend, B in engine_B(bare).items():  # auto: none declared, every joint assumed, unit columns
        np.testing.assert_array_equal(B, np.eye(2), err_msg=backend)
    assert verdicts(bare, "declared") == {("underactuated", 2)}
    geared = write(tmp_path, "geared.xml", mjcf('<motor name="m1" joint="j1" gear="150"/>'))
    np.testing.assert_allclose(engine_B(geared)["mujoco"], [[150.0], [0.0]])
    for backend, B in engine_B(geared, "assumed").items():  # assumed replaces the file's actuators
        np.testing.assert_array_equal(B, np.eye(2), err_msg=backend)


def test_drake_plants_with_the_models_actuators_copy_and_pickle(tmp_path):
    """The actuators we add to Drake travel with a copy (the rebuild re-runs them) and so does a B that came
    from the description."""
    import copy
    import pickle

    coupled = ('<transmission name="grip"><type>transmission_interface/SimpleTransmission</type>'
               '<joint name="j1"/><joint name="j2"/><actuator name="m"/></transmission>')
    for text in (chain(2, ROS1_ATTRIBUTE), chain(2, coupled), chain(2)):
        path = write(tmp_path, "robot.urdf", text)
        plant = load(path, "drake")
        B = plant.terms(np.zeros(2), np.zeros(2)).B
        for other in (pickle.loads(pickle.dumps(plant)), copy.deepcopy(plant)):
            np.testing.assert_array_equal(other.terms(np.zeros(2), np.zeros(2)).B, B)
            assert other.actuator_names == plant.actuator_names
            assert other.plant.num_actuators() == plant.plant.num_actuators()
