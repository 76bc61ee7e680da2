"""Generated robot descriptions: valid planar chains (URDF, SDF, MJCF) and hostile files for tests (entity
bombs, include fan-outs, very long chains, references to meshes and models that may be pipes).

Chains hang along −z from the origin, joints rotate (or slide) about y, each link a uniform rod of `mass` and
`length` with its centre of mass at mid-length, so gravity acts in the plane. URDF joints are named
`joint1..jointN`, links `link1..linkN` (plus `world`, or `base` for a floating chain); joint i's 1-based index
is what `actuated` refers to.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

_JOINT_TYPES = ("revolute", "continuous", "prismatic")


def _rod_inertia(mass: float, length: float) -> tuple[float, float, float]:
    """Principal inertias (ixx, iyy, izz) of a thin rod along z about its centre, izz kept small but valid."""
    transverse = mass * length**2 / 12.0
    return transverse, transverse, transverse / 100.0


def urdf_chain(
    n_links: int,
    actuated: Iterable[int],
    *,
    fixed_base: bool = True,
    joint_type: str = "revolute",
    mass: float = 1.0,
    length: float = 1.0,
    damping: float = 0.0,
    with_transmissions: bool = True,
) -> str:
    """A planar serial chain as URDF text, with a ROS SimpleTransmission for each joint index in `actuated`.

    `fixed_base=True` attaches joint1 to a `world` link; otherwise joint1's parent is a free link `base`.
    `with_transmissions=False` writes no transmissions at all (so readers assume every joint actuated).
    """
    if n_links < 1:
        raise ValueError(f"n_links must be a positive number of links, got {n_links}")
    if joint_type not in _JOINT_TYPES:
        raise ValueError(f"joint_type must be one of {_JOINT_TYPES}, got {joint_type!r}")
    actuated = sorted(set(actuated))
    if any(not 1 <= i <= n_links for i in actuated):
        raise ValueError(f"actuated holds 1-based joint indices in 1..{n_links}, got {actuated}")
    ixx, iyy, izz = _rod_inertia(mass, length)
    parts = ['<?xml version="1.0"?>', f'<robot name="chain{n_links}">']
    if fixed_base:
        parts.append('  <link name="world"/>')
    else:
        parts.append(_urdf_link("base", mass, length, ixx, iyy, izz))
    for i in range(1, n_links + 1):
        parts.append(_urdf_link(f"link{i}", mass, length, ixx, iyy, izz))
        parent = ("world" if fixed_base else "base") if i == 1 else f"link{i - 1}"
        offset = 0.0 if i == 1 else -length
        limit = '<limit lower="-100" upper="100" effort="100" velocity="100"/>' if joint_type != "continuous" else ""
        parts.append(
            f'  <joint name="joint{i}" type="{joint_type}">\n'
            f'    <parent link="{parent}"/>\n    <child link="link{i}"/>\n'
            f'    <origin xyz="0 0 {offset}" rpy="0 0 0"/>\n    <axis xyz="0 1 0"/>\n'
            f"    {limit}\n"
            f'    <dynamics damping="{damping}" friction="0"/>\n  </joint>'
        )
    if with_transmissions:
        for i in actuated:
            parts.append(
                f'  <transmission name="transmission{i}">\n'
                "    <type>transmission_interface/SimpleTransmission</type>\n"
                f'    <joint name="joint{i}">\n'
                "      <hardwareInterface>EffortJointInterface</hardwareInterface>\n    </joint>\n"
                f'    <actuator name="motor{i}"><mechanicalReduction>1</mechanicalReduction></actuator>\n'
                "  </transmission>"
            )
    parts.append("</robot>")
    return "\n".join(parts) + "\n"


def _urdf_link(name: str, mass: float, length: float, ixx: float, iyy: float, izz: float) -> str:
    return (
        f'  <link name="{name}">\n    <inertial>\n      <origin xyz="0 0 {-length / 2}" rpy="0 0 0"/>\n'
        f'      <mass value="{mass}"/>\n'
        f'      <inertia ixx="{ixx}" ixy="0" ixz="0" iyy="{iyy}" iyz="0" izz="{izz}"/>\n'
        "    </inertial>\n  </link>"
    )


def sdf_chain(n_links: int, actuated: Iterable[int], *, fixed_base: bool = True, mass: float = 1.0) -> str:
    """The same planar revolute chain as SDFormat 1.7; joints not in `actuated` get `<effort>0</effort>`."""
    actuated = set(actuated)
    ixx, iyy, izz = _rod_inertia(mass, 1.0)
    parts = ['<?xml version="1.0"?>', '<sdf version="1.7">', f'  <model name="chain{n_links}">']
    for i in range(1, n_links + 1):
        parts.append(
            f'    <link name="link{i}">\n      <pose>0 0 {-(i - 1.0)} 0 0 0</pose>\n'
            f"      <inertial>\n        <pose>0 0 -0.5 0 0 0</pose>\n        <mass>{mass}</mass>\n"
            f"        <inertia><ixx>{ixx}</ixx><iyy>{iyy}</iyy><izz>{izz}</izz>"
            "<ixy>0</ixy><ixz>0</ixz><iyz>0</iyz></inertia>\n      </inertial>\n    </link>"
        )
        if i == 1 and not fixed_base:
            continue
        effort = "" if i in actuated else "<limit><effort>0</effort></limit>"
        parts.append(
            f'    <joint name="joint{i}" type="revolute">\n'
            f"      <parent>{'world' if i == 1 else f'link{i - 1}'}</parent>\n      <child>link{i}</child>\n"
            f"      <axis><xyz>0 1 0</xyz>{effort}</axis>\n    </joint>"
        )
    parts += ["  </model>", "</sdf>"]
    return "\n".join(parts) + "\n"


def mjcf_chain(n_links: int, actuated: Iterable[int], *, floating: bool = False, tendon: bool = False) -> str:
    """The same chain as MJCF with a `<motor>` per joint index in `actuated`.

    `floating=True` hangs the chain from a free body `base` (free joint `base_free`); `tendon=True` replaces
    the motors with one motor on a fixed tendon coupling all joints (coefficients 1, 2, ...): rank 1.
    """
    actuated = sorted(set(actuated))
    body, close = "", ""
    if floating:
        body = '    <body name="base"><freejoint name="base_free"/><geom type="sphere" size="0.1" mass="1"/>\n'
        close = "    </body>\n"
    for i in range(1, n_links + 1):
        pos = "0 0 0" if i == 1 else "0 0 -1"
        body += (
            f'{"  " * (i + 1)}<body name="link{i}" pos="{pos}">\n'
            f'{"  " * (i + 2)}<joint name="joint{i}" type="hinge" axis="0 1 0"/>\n'
            f'{"  " * (i + 2)}<geom type="capsule" fromto="0 0 0 0 0 -1" size="0.05" mass="1"/>\n'
        )
        close = f"{'  ' * (i + 1)}</body>\n" + close
    if tendon:
        coupling = "".join(f'<joint joint="joint{i}" coef="{i}"/>' for i in range(1, n_links + 1))
        extra = f'  <tendon><fixed name="coupling">{coupling}</fixed></tendon>\n'
        motors = '    <motor tendon="coupling" gear="1"/>\n'
    else:
        extra = ""
        motors = "".join(f'    <motor name="motor{i}" joint="joint{i}" gear="1"/>\n' for i in actuated)
    return (
        f'<mujoco model="chain{n_links}">\n  <worldbody>\n{body}{close}  </worldbody>\n{extra}'
        f"  <actuator>\n{motors}  </actuator>\n</mujoco>\n"
    )


def billion_laughs(levels: int = 10) -> str:
    """The classic entity-expansion bomb (10 levels expand to 10^9 'lol's if an XML parser allows it)."""
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels)]
    body = "\n".join(entities)
    robot = f'<robot name="&lol{levels - 1};"><link name="a"/></robot>'
    return f'<?xml version="1.0"?>\n<!DOCTYPE robot [\n{body}\n]>\n{robot}\n'


def external_entity(target: str) -> str:
    """A URDF whose robot name is an external entity pointing at the file `target` (must never be read)."""
    return (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE robot [<!ENTITY secret SYSTEM "file://{target}">]>\n'
        '<robot name="&secret;"><link name="a"/></robot>\n'
    )


def urdf_with(links: Iterable[str], joints: Iterable[tuple[str, str, str, str]], extra: str = "") -> str:
    """A URDF from link names and (name, type, parent, child) joints, for malformed-tree tests."""
    body = "".join(f'  <link name="{name}"/>\n' for name in links)
    for name, kind, parent, child in joints:
        body += (
            f'  <joint name="{name}" type="{kind}"><parent link="{parent}"/><child link="{child}"/>'
            '<axis xyz="0 1 0"/><limit lower="-1" upper="1" effort="1" velocity="1"/></joint>\n'
        )
    return f'<?xml version="1.0"?>\n<robot name="test">\n{body}{extra}</robot>\n'


def urdf_bare_chain(n_joints: int) -> str:
    """A minimal URDF chain of `n_joints` revolute joints (about 75 bytes each): no inertia, no transmissions
    (so every joint reads as actuated), root link `l0` floating. For scaling tests of the reader."""
    parts = ['<robot name="bare">', '<link name="l0"/>']
    for i in range(1, n_joints + 1):
        parts.append(
            f'<link name="l{i}"/><joint name="j{i}" type="revolute">'
            f'<parent link="l{i - 1}"/><child link="l{i}"/></joint>'
        )
    parts.append("</robot>")
    return "\n".join(parts) + "\n"


def mjcf_include_fanout(folder: Path, fanout: int = 10, levels: int = 8) -> Path:
    """Writes an MJCF model whose includes fan out: `robot.xml` includes `level1.xml` `fanout` times, which
    includes `level2.xml` `fanout` times, ... down to `level{levels}.xml` (a few kB in all, fanout**levels
    files if expanded). Returns the path of `robot.xml`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"level{levels}.xml").write_text('<mujoco><option timestep="0.002"/></mujoco>\n')
    for level in range(levels - 1, 0, -1):
        includes = f'<include file="level{level + 1}.xml"/>' * fanout
        (folder / f"level{level}.xml").write_text(f"<mujoco>{includes}</mujoco>\n")
    top = folder / "robot.xml"
    top.write_text(
        mjcf_chain(2, [1, 2]).replace("<worldbody>", '<include file="level1.xml"/>' * fanout + "<worldbody>")
    )
    return top


def mjcf_with_mesh(mesh_file: str) -> str:
    """A 2-link MJCF chain whose first link has a mesh geom loaded from `mesh_file`."""
    text = mjcf_chain(2, [1, 2]).replace(
        "<worldbody>", f'<asset><mesh name="m" file="{mesh_file}"/></asset><worldbody>'
    )
    return text.replace('<geom type="capsule"', '<geom type="mesh" mesh="m"/><geom type="capsule"', 1)


def urdf_with_mesh(mesh_filename: str) -> str:
    """A 2-link URDF chain whose first link has a visual mesh `mesh_filename`."""
    visual = f'<visual><geometry><mesh filename="{mesh_filename}"/></geometry></visual>'
    return urdf_chain(2, [1, 2]).replace("<inertial>", visual + "<inertial>", 1)


def sdf_with_include(uri: str) -> str:
    """A 2-link SDF chain whose model also `<include>`s the model at `uri`."""
    return sdf_chain(2, [1, 2]).replace("</model>", f"  <include><uri>{uri}</uri></include>\n  </model>", 1)


def mjcf_adhesion(floor: bool) -> str:
    """A floating body with a kneed leg, a motor on the knee and an `<adhesion>` actuator on the leg, its foot
    touching the ground plane at the initial pose when `floor` (so the adhesion has moment arms there)."""
    ground = '<geom name="floor" type="plane" size="1 1 0.1"/>' if floor else ""
    return (
        f'<mujoco model="sticky"><worldbody>{ground}'
        '<body name="thorax" pos="0 0 0.06"><freejoint name="root"/><geom size="0.05" mass="1"/>'
        '<body name="leg"><joint name="knee" type="hinge"/><geom size="0.02" pos="0 0 -0.05" mass="0.1"/></body>'
        "</body></worldbody>"
        '<actuator><motor name="knee_motor" joint="knee"/><adhesion name="stick" body="leg" ctrlrange="0 1"/>'
        "</actuator></mujoco>\n"
    )
