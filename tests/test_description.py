"""Reading robot descriptions: safe XML, the URDF/SDF/MJCF readers, the generators and the engine sanitizer.

Expected verdicts come from Drake's and MuJoCo's own parsers (num_velocities, num_actuators, nv, nu) or from
counting by hand in generated files; hostile files must fail with one-line `DescriptionError`s.
"""

from __future__ import annotations

import os
import struct
import threading
from pathlib import Path

import mujoco
import numpy as np
import pytest

from underact.description import DescriptionError, line_of, parse_description, safe_parse
from underact.description.generate import (
    billion_laughs,
    external_entity,
    mjcf_adhesion,
    mjcf_chain,
    sdf_chain,
    urdf_chain,
    urdf_with,
)
from underact.description.sanitize import engine_urdf, removed_geometry
from underact.errors import UnderactError

pydrake = pytest.importorskip("pydrake")
from pydrake.multibody import parsing as pydrake_parsing  # noqa: E402
from pydrake.multibody.plant import MultibodyPlant  # noqa: E402

DRAKE_EXAMPLES = Path(pydrake.__file__).parent / "share" / "drake" / "examples"
GYM_ASSETS = Path(pytest.importorskip("gymnasium").__file__).parent / "envs" / "mujoco" / "assets"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def drake_counts(text: str, kind: str) -> tuple[int, int]:
    """(num_velocities, num_actuators) as Drake's parser builds the plant."""
    plant = MultibodyPlant(0.0)
    pydrake_parsing.Parser(plant).AddModelsFromString(text, kind)
    plant.Finalize()
    return plant.num_velocities(), plant.num_actuators()


# --- safe XML -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "file is empty"),
        ("   \n", "file is empty"),
        ("this is not xml", "not well-formed XML at line 1, column 1"),
        ('<robot name="r">\n  <link name="a">\n', "not well-formed XML at line 3"),
        ('<robot name="r">\n<link name="a"></robot>', "not well-formed XML at line 2"),
        ('<!DOCTYPE robot><robot name="r"/>', "DTDs and entities are refused"),
    ],
)
def test_safe_parse_rejects_broken_xml_with_line(tmp_path, text, message):
    path = write(tmp_path, "robot.urdf", text)
    with pytest.raises(DescriptionError, match=message) as info:
        safe_parse(path)
    assert str(info.value).startswith("robot.urdf: ") and "\n" not in str(info.value)
    assert isinstance(info.value, UnderactError)


def test_safe_parse_refuses_billion_laughs_quickly(tmp_path):
    path = write(tmp_path, "bomb.urdf", billion_laughs(10))
    with pytest.raises(DescriptionError, match="DTDs and entities are refused"):
        safe_parse(path)


def test_external_entity_target_is_never_read(tmp_path):
    """The entity points at a FIFO: opening it for reading would block, so a read shows up as a hang."""
    fifo = tmp_path / "secret"
    os.mkfifo(fifo)
    path = write(tmp_path, "xxe.urdf", external_entity(str(fifo)))
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            parse_description(path)
        except BaseException as exc:  # collected for the assertion below
            outcome.append(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "the parser tried to open the external entity's target"
    assert isinstance(outcome[0], DescriptionError) and "entities are refused" in str(outcome[0])


def test_external_entity_content_does_not_leak(tmp_path):
    secret = write(tmp_path, "secret.txt", "TOPSECRET")
    path = write(tmp_path, "xxe.urdf", external_entity(str(secret)))
    with pytest.raises(DescriptionError) as info:
        parse_description(path)
    assert "TOPSECRET" not in str(info.value)


def test_safe_parse_paths_and_size_cap(tmp_path):
    with pytest.raises(DescriptionError, match="no such file"):
        safe_parse(tmp_path / "missing.urdf")
    with pytest.raises(DescriptionError, match="is a directory"):
        safe_parse(tmp_path)
    os.mkfifo(tmp_path / "pipe.urdf")
    with pytest.raises(DescriptionError, match="is not a regular file"):
        safe_parse(tmp_path / "pipe.urdf")  # opening a pipe would block
    path = write(tmp_path, "big.urdf", urdf_chain(3, [1]))
    with pytest.raises(DescriptionError, match="larger than the 100-byte limit"):
        safe_parse(path, max_bytes=100)
    assert safe_parse(path).tag == "robot"


def test_line_of_reports_element_lines(tmp_path):
    root = safe_parse(write(tmp_path, "r.urdf", '<robot name="r">\n\n  <link name="a"/>\n</robot>'))
    assert line_of(root) == 1 and line_of(root.find("link")) == 3


# --- URDF: generated chains against Drake -------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, actuated, fixed_base",
    [(1, [1], True), (2, [2], True), (3, [1, 3], True), (4, [1, 2, 3, 4], True), (3, [2], False)],
)
def test_urdf_chain_matches_drake(tmp_path, n, actuated, fixed_base):
    text = urdf_chain(n, actuated, fixed_base=fixed_base)
    nv, nu = drake_counts(text, "urdf")
    desc = parse_description(write(tmp_path, "chain.urdf", text))
    assert (desc.dof, desc.actuated) == (nv, nu)
    assert desc.base == ("fixed" if fixed_base else "floating")
    assert desc.degree == nv - nu
    assert desc.cls == ("fully-actuated" if nv == nu else "underactuated")
    assert desc.actuated_joints == [f"joint{i}" for i in actuated]
    assert desc.unactuated_joints == [f"joint{i}" for i in range(1, n + 1) if i not in actuated]
    assert desc.actuation_source == "transmission"
    assert [j.name for j in desc.joints] == [f"joint{i}" for i in range(1, n + 1)]


def test_urdf_chain_loads_in_mujoco_with_gravity():
    model = mujoco.MjModel.from_xml_string(urdf_chain(2, [1], mass=2.0, length=0.5))
    data = mujoco.MjData(model)
    data.qpos[:] = [np.pi / 2, 0.0]
    mujoco.mj_forward(model, data)
    # Horizontal two-rod chain: shoulder gravity torque = g (m l/2 + m (l + l/2)) = g m 2 l (closed form).
    assert model.nv == 2 and model.body_mass[1:].tolist() == [2.0, 2.0]
    assert abs(abs(data.qfrc_bias[0]) - 9.81 * 2.0 * 2 * 0.5) < 1e-6


def test_generators_reject_bad_arguments():
    with pytest.raises(ValueError, match="1-based joint indices"):
        urdf_chain(2, [3])
    with pytest.raises(ValueError, match="joint_type"):
        urdf_chain(2, [1], joint_type="ball")


def test_base_modes_and_bolted_verdict(tmp_path):
    path = write(tmp_path, "arm.urdf", urdf_chain(3, [1, 2, 3], fixed_base=False))
    auto = parse_description(path)
    assert (auto.base, auto.dof, auto.actuated, auto.degree) == ("floating", 9, 3, 6)
    assert auto.bolted == {"dof": 3, "actuated": 3, "degree": 0, "class": "fully-actuated"}
    fixed = parse_description(path, base="fixed")
    assert (fixed.base, fixed.dof, fixed.cls, fixed.bolted) == ("fixed", 3, "fully-actuated", None)
    floating = parse_description(write(tmp_path, "w.urdf", urdf_chain(2, [1, 2])), base="floating")
    assert (floating.dof, floating.actuated, floating.bolted) == (8, 2, None)
    with pytest.raises(ValueError, match="base must be one of"):
        parse_description(path, base="welded")


def test_world_floating_joint_is_the_base(tmp_path):
    text = urdf_with(
        ["world", "body", "arm"], [("free", "floating", "world", "body"), ("j", "revolute", "body", "arm")]
    )
    desc = parse_description(write(tmp_path, "f.urdf", text))
    nv, _ = drake_counts(text, "urdf")
    assert (desc.base, desc.dof, desc.actuated) == ("floating", nv, 1)
    assert desc.unactuated_joints == []


def test_assumed_and_all_actuation(tmp_path):
    path = write(tmp_path, "bare.urdf", urdf_chain(3, [], with_transmissions=False))
    desc = parse_description(path)
    assert (desc.actuation_source, desc.dof, desc.actuated) == ("assumed", 3, 3)
    assert any("assumed actuated" in w for w in desc.warnings)
    partial = write(tmp_path, "partial.urdf", urdf_chain(3, [2]))
    assert any("covers 1 of 3 independent joints; 2 passive" in w for w in parse_description(partial).warnings)
    forced = parse_description(partial, actuation="assumed")
    assert (forced.actuation_source, forced.actuated, forced.degree) == ("assumed", 3, 0)


def test_transmission_joint_tags_and_passive_joint(tmp_path):
    transmissions = (
        '<transmission name="a"><type>x</type><flexJoint name="joint1"/><actuator name="m1"/></transmission>'
        '<transmission name="b"><type>x</type><rollJoint name="joint2"/><passive_joint name="joint3"/>'
        '<gap_joint name="joint4"/><actuator name="m2"/></transmission>'
    )
    text = urdf_chain(5, []).replace("</robot>", transmissions + "</robot>")
    desc = parse_description(write(tmp_path, "tags.urdf", text))
    assert desc.actuated_joints == ["joint1", "joint2", "joint4"]
    assert desc.unactuated_joints == ["joint3", "joint5"]


def test_zero_effort_transmission_is_passive_like_drake(tmp_path):
    text = urdf_chain(3, [1, 2, 3]).replace('effort="100"', 'effort="0"', 1)
    nv, nu = drake_counts(text, "urdf")
    desc = parse_description(write(tmp_path, "e0.urdf", text))
    assert (desc.dof, desc.actuated, desc.unactuated_joints) == (nv, nu, ["joint1"])
    assert any("effort limit 0" in w for w in desc.warnings)


def test_ros2_control_command_interfaces(tmp_path):
    block = (
        '<ros2_control name="arm" type="system"><hardware><plugin>mock/Sys</plugin></hardware>'
        '<joint name="joint1"><command_interface name="position"/><state_interface name="position"/></joint>'
        '<joint name="joint2"><state_interface name="position"/></joint>'
        "</ros2_control>"
    )
    only = write(
        tmp_path, "r2.urdf", urdf_chain(3, [], with_transmissions=False).replace("</robot>", block + "</robot>")
    )
    desc = parse_description(only)
    assert (desc.actuation_source, desc.actuated_joints) == ("ros2_control", ["joint1"])
    both = write(tmp_path, "both.urdf", urdf_chain(3, [3]).replace("</robot>", block + "</robot>"))
    desc = parse_description(both)
    assert (desc.actuation_source, desc.actuated_joints) == ("transmission+ros2_control", ["joint1", "joint3"])


def test_mimic_joint_is_dependent(tmp_path):
    mimic = '<child link="link3"/><mimic joint="joint2" multiplier="2"/>'
    text = urdf_chain(3, [1, 3]).replace('<child link="link3"/>', mimic)
    desc = parse_description(write(tmp_path, "mimic.urdf", text))
    nv, nu = drake_counts(text, "urdf")  # Drake keeps the mimic joint's velocity and adds a coupler constraint
    assert (desc.dof, desc.actuated) == (nv - 1, nu)
    assert desc.actuated_joints == ["joint1", "joint2"]  # joint3's motor drives joint2 through the mimic
    assert [j.mimic for j in desc.joints] == [None, None, "joint2"]
    broken = parse_description(write(tmp_path, "bad.urdf", text.replace('mimic joint="joint2"', 'mimic joint="nope"')))
    assert (broken.dof, broken.actuated) == (3, 2)  # the dangling mimic joint is counted as independent
    assert any("mimics missing joint 'nope'; counted as independent" in w for w in broken.warnings)


@pytest.mark.parametrize(
    "links, joints, message",
    [
        (["a", "b"], [("j", "ball", "a", "b")], "joint 'j' \\(line 5\\) has unknown type 'ball'"),
        (["a", "b"], [("j", "revolute", "a", "zz")], "names missing child link 'zz'"),
        (["a", "b", "c"], [("j", "revolute", "a", "b")], "2 root links \\('a', 'c'\\)"),
        (
            ["a", "b", "c"],
            [("j1", "revolute", "a", "b"), ("j2", "revolute", "b", "c"), ("j3", "revolute", "c", "b")],
            "child of two joints",
        ),
        (["a", "b"], [("j1", "revolute", "a", "b"), ("j2", "revolute", "b", "a")], "joints form a cycle"),
        (
            ["a", "b", "c", "d"],
            [("j1", "revolute", "a", "b"), ("j2", "revolute", "c", "d"), ("j3", "revolute", "d", "c")],
            "links 'c', 'd' form a cycle of joints",
        ),
        ([], [], "has no <link> elements"),
        (["a", "a"], [], "link 'a' is declared twice"),
    ],
)
def test_malformed_trees_fail_with_one_line(tmp_path, links, joints, message):
    with pytest.raises(DescriptionError, match=message) as info:
        parse_description(write(tmp_path, "bad.urdf", urdf_with(links, joints)))
    assert "\n" not in str(info.value) and str(info.value).startswith("bad.urdf: ")


def test_wrong_root_and_xacro(tmp_path):
    with pytest.raises(DescriptionError, match="root element is <html>"):
        parse_description(write(tmp_path, "page.urdf", "<html><body/></html>"))
    xacro = (
        '<robot name="r" xmlns:xacro="http://www.ros.org/wiki/xacro"><xacro:macro name="m"/><link name="a"/></robot>'
    )
    with pytest.raises(DescriptionError, match="xacro template"):
        parse_description(write(tmp_path, "r.urdf.xacro", xacro))


def test_missing_names_are_warnings_and_sanitized(tmp_path):
    text = urdf_chain(2, [2]).replace('<robot name="chain2">', "<robot>").replace('<joint name="joint1"', "<joint")
    path = write(tmp_path, "noname.urdf", text)
    desc = parse_description(path)
    assert desc.name == "noname" and (desc.dof, desc.actuated) == (2, 1)
    assert any("has no name" in w for w in desc.warnings) and [j.name for j in desc.joints][0] == "unnamed_joint_1"
    with pytest.raises(ValueError, match="name"):
        mujoco.MjModel.from_xml_string(text)
    model = mujoco.MjModel.from_xml_string(engine_urdf(path))
    assert model.nv == 2 and mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, 0) == "unnamed_joint_1"


@pytest.mark.parametrize("value", ["nan", "-3", "inf"])
def test_nonsense_mass_is_a_warning(tmp_path, value):
    text = urdf_chain(2, [1, 2]).replace('<mass value="1.0"/>', f'<mass value="{value}"/>', 1)
    text = text.replace('ixx="0.08333333333333333"', 'ixx="-1"', 1)
    desc = parse_description(write(tmp_path, "nan.urdf", text))
    assert (desc.dof, desc.actuated, desc.cls) == (2, 2, "fully-actuated")
    assert any("mass" in w for w in desc.warnings) and any("inertia" in w for w in desc.warnings)


def _write_stl(path: Path) -> None:
    """A binary STL tetrahedron."""
    faces = [
        ((0, 0, 0), (1, 0, 0), (0, 1, 0)),
        ((0, 0, 0), (0, 0, 1), (1, 0, 0)),
        ((0, 0, 0), (0, 1, 0), (0, 0, 1)),
        ((1, 0, 0), (0, 0, 1), (0, 1, 0)),
    ]
    with path.open("wb") as handle:
        handle.write(b"\0" * 80 + struct.pack("<I", len(faces)))
        for face in faces:
            handle.write(struct.pack("<3f", 0, 0, 0) + b"".join(struct.pack("<3f", *v) for v in face) + b"\0\0")


def test_unresolvable_meshes_warned_and_removed_for_mujoco(tmp_path):
    (tmp_path / "pkg" / "meshes").mkdir(parents=True)
    _write_stl(tmp_path / "pkg" / "meshes" / "ok.stl")
    geometry = (
        '<collision><geometry><mesh filename="package://missing_pkg/meshes/a.stl"/></geometry></collision>'
        '<collision><geometry><mesh filename="package://pkg/meshes/ok.stl"/></geometry></collision>'
        '<visual><geometry><mesh filename="meshes/gone.dae"/></geometry></visual>'
    )
    text = urdf_chain(2, [1, 2]).replace('<link name="link1">', '<link name="link1">' + geometry)
    path = write(tmp_path, "meshy.urdf", text)
    desc = parse_description(path)
    assert desc.unresolved_meshes == ["package://missing_pkg/meshes/a.stl", "meshes/gone.dae"]
    assert any("2 mesh file(s) not found" in w for w in desc.warnings)
    assert (desc.dof, desc.actuated) == (2, 2)
    with pytest.raises(ValueError, match="package:"):
        mujoco.MjModel.from_xml_string(text)
    assert removed_geometry(desc) == desc.unresolved_meshes
    model = mujoco.MjModel.from_xml_string(engine_urdf(desc))
    assert (model.nv, model.nmesh) == (2, 1)  # the resolvable package:// mesh was kept
    assert model.body_mass[1] == 1.0


# --- SDF ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, actuated, fixed_base", [(2, [1], True), (3, [1, 2, 3], True), (3, [3], False)])
def test_sdf_chain_matches_drake(tmp_path, n, actuated, fixed_base):
    text = sdf_chain(n, actuated, fixed_base=fixed_base)
    nv, nu = drake_counts(text, "sdf")
    desc = parse_description(write(tmp_path, "chain.sdf", text))
    assert (desc.format, desc.dof, desc.actuated, desc.base) == ("sdf", nv, nu, "fixed" if fixed_base else "floating")


def test_sdf_errors(tmp_path):
    with pytest.raises(DescriptionError, match="holds no <model>"):
        parse_description(write(tmp_path, "e.sdf", '<sdf version="1.7"/>'))
    bad = sdf_chain(2, [1]).replace("<child>link2</child>", "<child>nowhere</child>")
    with pytest.raises(DescriptionError, match="names missing child link 'nowhere'"):
        parse_description(write(tmp_path, "m.sdf", bad))


# --- MJCF ---------------------------------------------------------------------------------------------------


def test_mjcf_chain_rank_from_moment_arms(tmp_path):
    desc = parse_description(write(tmp_path, "c.xml", mjcf_chain(3, [1, 3])))
    assert (desc.format, desc.base, desc.dof, desc.actuated, desc.unactuated_joints) == (
        "mjcf",
        "fixed",
        3,
        2,
        ["joint2"],
    )
    tendon = parse_description(write(tmp_path, "t.xml", mjcf_chain(3, [], tendon=True)))
    assert (tendon.dof, tendon.actuated, tendon.degree) == (3, 1, 2)  # one tendon motor: rank 1
    assert tendon.unactuated_joints == []  # every joint feels the tendon; the coupling shows only in degree
    floating = parse_description(write(tmp_path, "f.xml", mjcf_chain(2, [1, 2], floating=True)))
    assert (floating.base, floating.dof, floating.actuated, floating.bolted["class"]) == (
        "floating",
        8,
        2,
        "fully-actuated",
    )


def test_mjcf_falls_back_to_xml_when_mujoco_refuses(tmp_path):
    text = (
        mjcf_chain(3, [1, 3], tendon=False)
        .replace('<geom type="capsule"', '<geom type="mesh" mesh="missing"/><geom type="capsule"', 1)
        .replace("<worldbody>", '<asset><mesh name="missing" file="nowhere.stl"/></asset><worldbody>')
    )
    desc = parse_description(write(tmp_path, "m.xml", text))
    assert any(w.startswith("m.xml: MuJoCo could not load the model: ") and w.endswith("read from the XML alone")
               for w in desc.warnings)
    assert (desc.dof, desc.actuated, desc.unactuated_joints) == (3, 2, ["joint2"])
    tendon = mjcf_chain(3, [], tendon=True).replace(
        "<worldbody>", '<asset><mesh name="m" file="no.stl"/></asset><worldbody>'
    )
    tendon = tendon.replace('<geom type="capsule"', '<geom type="mesh" mesh="m"/><geom type="capsule"', 1)
    assert parse_description(write(tmp_path, "t.xml", tendon)).actuated == 1


def _refused_by_mujoco(text: str) -> str:
    """`text` with a mesh geom on a missing file: MuJoCo refuses it, so the XML-only reader runs."""
    text = text.replace("<worldbody>", '<asset><mesh name="m" file="no.stl"/></asset><worldbody>')
    return text.replace('<geom type="capsule"', '<geom type="mesh" mesh="m"/><geom type="capsule"', 1)


@pytest.mark.parametrize("refuse", [False, True])
def test_mjcf_joint_equality_is_a_mimic(tmp_path, refuse):
    """joint3 = 2·joint2 as an MJCF equality reads like the URDF mimic above: dof 2, its motor drives joint2,
    and a warning names the equality, both joints and the dof change."""
    equality = '<equality><joint name="gear" joint1="joint3" joint2="joint2" polycoef="0 2 0 0 0"/></equality>'
    text = mjcf_chain(3, [1, 3]).replace("<actuator>", equality + "<actuator>")
    if refuse:  # the XML-only reader must agree with MuJoCo's
        text = _refused_by_mujoco(text)
    desc = parse_description(write(tmp_path, "eq.xml", text))
    assert any("MuJoCo could not load the model" in w for w in desc.warnings) == refuse
    assert (desc.dof, desc.actuated, desc.actuated_joints) == (2, 2, ["joint1", "joint2"])
    assert "equality 'gear' couples joint3 to joint2: counted as dependent (dof 3 -> 2)" in desc.warnings
    locked = parse_description(write(tmp_path, "lock.xml", text.replace(' joint2="joint2"', "")))
    assert (locked.dof, locked.actuated) == (2, 1)  # joint3 locked: its motor does nothing
    assert "equality 'gear' locks joint3: counted as fixed (dof 3 -> 2)" in locked.warnings


@pytest.mark.parametrize("refuse", [False, True])
def test_mjcf_gripper_equality_warns_each_count_change(tmp_path, refuse):
    """A Robotiq-style gripper on a floating base: the right finger mirrors the left through an equality, so
    MuJoCo's nv 9 reads as dof 8, with one warning per coupling; weld and inactive equalities change nothing
    and are listed as not used."""
    fingers = "".join(
        f'<body name="{side}"><joint name="finger_{side}" type="slide" axis="1 0 0"/>'
        '<geom type="capsule" fromto="0 0 0 0 0 -1" size="0.02" mass="0.1"/></body>'
        for side in ("left", "right")
    )
    text = (
        '<mujoco model="gripper"><worldbody><body name="palm"><freejoint name="root"/>'
        f'<geom type="capsule" fromto="0 0 0 0 0 -1" size="0.1" mass="1"/>'
        f'<body name="wrist"><joint name="wrist" axis="0 0 1"/><geom size="0.05" mass="0.1"/>{fingers}</body>'
        '</body><body name="cube" pos="1 0 0"><geom size="0.05" mass="0.1"/></body></worldbody>'
        '<equality><joint joint1="finger_right" joint2="finger_left"/><weld name="grasp" body1="cube" body2="palm"/>'
        '<connect body1="cube" body2="world" anchor="0 0 0" active="false"/></equality>'
        '<actuator><motor joint="wrist"/><motor joint="finger_left"/></actuator></mujoco>'
    )
    if refuse:
        text = _refused_by_mujoco(text)
    path = write(tmp_path, "gripper.xml", text)
    desc = parse_description(path)
    if not refuse:
        assert mujoco.MjModel.from_xml_path(str(path)).nv == 9
    assert (desc.base, desc.dof, desc.actuated, desc.unactuated_joints) == ("floating", 8, 2, [])
    assert "equality #0 couples finger_right to finger_left: counted as dependent (dof 9 -> 8)" in desc.warnings
    assert (
        "2 equality constraint(s) not used; dof counts their joints: weld 'grasp', connect #2 (inactive)"
        in desc.warnings
    )
    assert (desc.bolted["dof"], desc.bolted["actuated"]) == (2, 2)
    fixed = parse_description(path, base="fixed")
    assert "equality #0 couples finger_right to finger_left: counted as dependent (dof 3 -> 2)" in fixed.warnings


def test_mjcf_joint_equalities_in_a_cycle_are_not_used(tmp_path):
    equality = '<equality><joint joint1="joint2" joint2="joint3"/><joint joint1="joint3" joint2="joint2"/></equality>'
    desc = parse_description(
        write(tmp_path, "cycle.xml", mjcf_chain(3, [1, 2, 3]).replace("<actuator>", equality + "<actuator>"))
    )
    assert (desc.dof, desc.actuated) == (2, 2)
    assert "equality #0 couples joint2 to joint3: counted as dependent (dof 3 -> 2)" in desc.warnings
    assert any("closes a cycle of joint equalities through 'joint3'" in w for w in desc.warnings)


@pytest.mark.parametrize("refuse", [False, True])
def test_adhesion_acts_only_through_contact_and_is_not_counted(tmp_path, refuse):
    """An adhesion actuator has moment arms only while its body touches something: a floor under the foot
    used to add one to the rank. Left out (named in a warning), the verdict is the same with and without."""
    verdicts = []
    for floor in (True, False):
        text = mjcf_adhesion(floor)
        if refuse:
            text = text.replace("<worldbody>", '<asset><mesh name="m" file="no.stl"/></asset><worldbody>')
            text = text.replace('<geom size="0.05"', '<geom type="mesh" mesh="m"/><geom size="0.05"', 1)
        desc = parse_description(write(tmp_path, f"sticky{floor}.xml", text))
        assert any("MuJoCo could not load the model" in w for w in desc.warnings) == refuse
        assert "1 actuator(s) act only through contact (adhesion, body transmission): not counted ('stick')" in (
            desc.warnings
        )
        verdicts.append((desc.base, desc.dof, desc.actuated, desc.unactuated_joints))
    assert verdicts[0] == verdicts[1] == ("floating", 7, 1, [])
    model = mujoco.MjModel.from_xml_path(str(tmp_path / "stickyTrue.xml")) if not refuse else None
    if model is not None:  # the floor does touch the foot: MuJoCo gives the adhesion moment arms there
        data = mujoco.MjData(model)
        mujoco.mj_forward(model, data)
        assert data.ncon > 0 and data.moment_rownnz[1] > 0


def test_mjcf_site_thrusters_act_on_the_floating_base(tmp_path):
    """A quadrotor: four rotor sites push along body z and twist about it; rank 4 of the base's 6 DoF."""
    sites = "".join(
        f'<site name="r{i}" pos="{x} {y} 0"/>' for i, (x, y) in enumerate([(1, 0), (0, 1), (-1, 0), (0, -1)])
    )
    thrusters = "".join(f'<general site="r{i}" gear="0 0 1 0 0 {0.1 if i % 2 else -0.1}"/>' for i in range(4))
    text = (
        '<mujoco model="quad"><worldbody><body name="frame"><freejoint name="root"/>'
        f'<geom type="box" size="1 1 0.1" mass="1"/>{sites}</body></worldbody>'
        f"<actuator>{thrusters}</actuator></mujoco>"
    )
    desc = parse_description(write(tmp_path, "quad.xml", text))
    assert (desc.base, desc.dof, desc.actuated, desc.degree) == ("floating", 6, 4, 2)
    assert desc.bolted == {"dof": 0, "actuated": 0, "degree": 0, "class": "fully-actuated"}
    assert desc.unactuated_joints == []


def test_nan_gear_is_a_warning(tmp_path):
    desc = parse_description(write(tmp_path, "nan.xml", mjcf_chain(2, [1, 2]).replace('gear="1"', 'gear="nan"', 1)))
    assert (desc.dof, desc.actuated, desc.unactuated_joints) == (2, 1, ["joint1"])
    assert any("non-finite moment arms" in w for w in desc.warnings)
    assert not any("refused" in w for w in desc.warnings)


def test_mjcf_without_bodies_is_an_error(tmp_path):
    with pytest.raises(DescriptionError, match="has no <worldbody> with a <body>"):
        parse_description(write(tmp_path, "empty.xml", "<mujoco><worldbody/></mujoco>"))


def test_sdf_nested_and_static_models(tmp_path):
    inner = sdf_chain(2, [2]).split("<model", 1)[1].rsplit("</model>", 1)[0]
    text = (
        '<sdf version="1.7"><model name="outer"><model' + inner + "</model>"
        '<model name="shelf"><static>true</static><link name="board"/></model></model></sdf>'
    )
    desc = parse_description(write(tmp_path, "nested.sdf", text))
    assert (desc.dof, desc.actuated, desc.base) == (2, 1, "fixed")
    assert desc.unactuated_joints == ["chain2::joint1"]
    assert "chain2::link1" in desc.links and "shelf::board" in desc.links


def test_mjcf_fallback_follows_includes_and_default_classes(tmp_path):
    """The robot lives in an included file and its joints are slides through a childclass default."""
    body = (
        '<mujoco><worldbody><body name="cart" childclass="rail"><joint name="x"/><geom size="0.1" mass="1"/>'
        '<body name="pole"><joint name="tilt" class="pin"/><geom type="mesh" mesh="m"/></body></body>'
        "</worldbody></mujoco>"
    )
    write(tmp_path, "robot_body.xml", body)
    main = (
        '<mujoco model="cartpole"><default><default class="rail"><joint type="slide"/>'
        '<default class="pin"><joint type="hinge"/></default></default></default>'
        '<asset><mesh name="m" file="missing.stl"/></asset><include file="robot_body.xml"/>'
        '<actuator><motor joint="x"/></actuator></mujoco>'
    )
    desc = parse_description(write(tmp_path, "cartpole.xml", main))
    assert any("MuJoCo could not load the model" in w for w in desc.warnings)
    assert [(j.name, j.type) for j in desc.joints] == [("x", "slide"), ("tilt", "hinge")]
    assert (desc.dof, desc.actuated, desc.unactuated_joints) == (2, 1, ["tilt"])
    write(tmp_path, "robot_body.xml", '<mujoco><include file="cartpole.xml"/></mujoco>')
    with pytest.raises(DescriptionError, match="nested more than 8 deep"):
        parse_description(tmp_path / "cartpole.xml")


def test_mujoco_warnings_are_captured_not_logged(tmp_path, monkeypatch):
    """(The tests that ask MuJoCo itself for nv run in a temporary folder too: MuJoCo logs there.)"""
    monkeypatch.chdir(tmp_path)
    desc = parse_description(GYM_ASSETS / "half_cheetah.xml")
    assert any(w.startswith("MuJoCo: ") for w in desc.warnings)
    assert not (tmp_path / "MUJOCO_LOG.TXT").exists()


# --- models shipped in the wheels ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["acrobot/Acrobot.urdf", "acrobot/Acrobot.sdf", "multibody/cart_pole/cart_pole.sdf"])
def test_drake_underactuated_examples(name):
    desc = parse_description(DRAKE_EXAMPLES / name)
    assert (desc.base, desc.dof, desc.actuated, desc.degree, desc.cls) == ("fixed", 2, 1, 1, "underactuated")
    assert desc.unactuated_joints == (["PolePin"] if "cart" in name else ["shoulder"])


def test_drake_pendulum_fully_actuated():
    desc = parse_description(DRAKE_EXAMPLES / "pendulum" / "Pendulum.urdf")
    assert (desc.dof, desc.actuated, desc.cls) == (1, 1, "fully-actuated")


def test_every_drake_example_matches_drakes_parser():
    files = sorted(p for p in DRAKE_EXAMPLES.rglob("*") if p.suffix in (".urdf", ".sdf"))
    assert len(files) >= 10
    for path in files:
        plant = MultibodyPlant(0.0)
        pydrake_parsing.Parser(plant).AddModels(str(path))
        plant.Finalize()
        desc = parse_description(path)
        assert desc.dof == plant.num_velocities(), path.name
        if desc.actuation_source != "assumed":
            assert desc.actuated == plant.num_actuators(), path.name


@pytest.mark.parametrize(
    "name, base, dof, actuated",
    [
        ("inverted_pendulum.xml", "fixed", 2, 1),
        ("inverted_double_pendulum.xml", "fixed", 3, 1),
        ("ant.xml", "floating", 14, 8),
        ("humanoid.xml", "floating", 23, 17),
        ("reacher.xml", "fixed", 4, 2),  # the target's two slide joints are unactuated
        ("hopper.xml", "fixed", 6, 3),  # planar root: rootx/rootz/rooty slide+hinge joints, not a free joint
    ],
)
def test_gymnasium_assets(name, base, dof, actuated, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MuJoCo's own compile below writes its warnings to MUJOCO_LOG.TXT in the cwd
    desc = parse_description(GYM_ASSETS / name)
    model = mujoco.MjModel.from_xml_path(str(GYM_ASSETS / name))
    assert (desc.base, desc.dof, desc.actuated) == (base, dof, actuated)
    assert desc.dof == model.nv and desc.actuated <= model.nu


def test_every_gymnasium_asset_classifies(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # as above: MuJoCo's own compile logs into the cwd
    for path in sorted(GYM_ASSETS.glob("*.xml")):
        desc = parse_description(path)
        model = mujoco.MjModel.from_xml_path(str(path))
        assert desc.dof == model.nv and 0 <= desc.degree <= desc.dof, path.name


# --- published robot descriptions (PyPI example-robot-data ships ~70 URDFs; used when installed) -------------


def _example_robot_data() -> Path:
    import importlib.metadata

    try:
        dist = importlib.metadata.distribution("example-robot-data")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("example-robot-data is not installed (pip install example-robot-data --no-deps)")
    return Path(dist.locate_file("cmeel.prefix/share/example-robot-data/robots"))


@pytest.mark.parametrize(
    "name, base, dof, actuated, bolted_degree",
    [
        ("ur_description/urdf/ur5_robot.urdf", "fixed", 6, 6, None),
        ("z1_description/urdf/z1.urdf", "fixed", 7, 6, None),  # gripper joint has no transmission
        ("panda_description/urdf/panda.urdf", "floating", 14, 8, 0),  # finger2 mimics finger1
        ("go1_description/urdf/go1.urdf", "floating", 18, 12, 0),
        ("talos_data/robots/talos_full_v2.urdf", "floating", 38, 32, 0),  # 12 mimic joints in the grippers
    ],
)
def test_published_robots(name, base, dof, actuated, bolted_degree):
    desc = parse_description(_example_robot_data() / name)
    assert (desc.base, desc.dof, desc.actuated) == (base, dof, actuated)
    assert (desc.bolted["degree"] if desc.bolted else None) == bolted_degree


def test_published_robots_dof_matches_drake():
    """Drake keeps a velocity per mimic joint (and a coupler constraint); we count independent DoF."""
    robots = _example_robot_data()
    for name in [
        "panda_description/urdf/panda.urdf",
        "pr2_description/urdf/pr2.urdf",
        "solo_description/robots/solo12.urdf",
    ]:
        desc = parse_description(robots / name)
        plant = MultibodyPlant(0.0)
        parser = pydrake_parsing.Parser(plant)
        parser.package_map().PopulateFromFolder(str(robots))
        parser.AddModels(str(robots / name))
        plant.Finalize()
        mimics = sum(1 for j in desc.joints if j.mimic is not None and j.dof)
        assert desc.dof + mimics == plant.num_velocities(), name


def test_every_published_robot_reads_or_fails_cleanly():
    files = sorted(_example_robot_data().rglob("*.urdf")) + sorted(_example_robot_data().rglob("*.sdf"))
    assert len(files) >= 60
    ok = 0
    for path in files:
        try:
            desc = parse_description(path)
        except DescriptionError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(path.name)
            continue
        ok += 1
        assert 0 <= desc.degree <= desc.dof
    assert ok >= len(files) - 8


def test_mutated_files_only_ever_raise_description_errors(tmp_path):
    """Seeded fuzzing: truncations, swapped attribute values and deleted lines in valid files of each format."""
    import random
    import re

    seeds = [
        urdf_chain(3, [1, 3]),
        urdf_chain(2, [2], fixed_base=False),
        sdf_chain(3, [2]),
        mjcf_chain(3, [1], tendon=True),
    ]
    seeds.append((DRAKE_EXAMPLES / "acrobot" / "Acrobot.urdf").read_text())
    tokens = ["nan", "-1", "", "world", "<", "fixed", "planar", "floating", "free", "ball", "link1", "joint2", "1e400"]
    rng = random.Random(0)
    path = tmp_path / "mutant.xml"
    outcomes = {"ok": 0, "error": 0}
    for _ in range(300):
        text = rng.choice(seeds)
        choice = rng.random()
        if choice < 0.3:
            text = text[: rng.randrange(len(text))]
        elif choice < 0.7:
            for _ in range(rng.randint(1, 3)):
                value = rng.choice(list(re.finditer(r'"[^"]*"', text)))
                text = text[: value.start()] + f'"{rng.choice(tokens)}"' + text[value.end() :]
        else:
            lines = text.splitlines()
            for _ in range(rng.randint(1, 4)):
                del lines[rng.randrange(1, len(lines) - 1)]
            text = "\n".join(lines)
        path.write_text(text)
        try:
            desc = parse_description(path)
            assert 0 <= desc.degree <= desc.dof
            outcomes["ok"] += 1
        except DescriptionError as exc:
            assert "\n" not in str(exc)
            outcomes["error"] += 1
    assert outcomes["ok"] > 30 and outcomes["error"] > 30
