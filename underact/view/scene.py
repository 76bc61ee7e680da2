"""A robot in Drake's scene graph for Meshcat: parsed as `underact.load` parses it, links coloured by actuation.

Each link takes the colour of the joint that moves it: the nearest movable joint above it in the tree (links
welded to a moving link share its colour), actuated in `ACTUATED`, passive in `PASSIVE` (a floating base is a
passive joint), and links welded to the world `FIXED`. Which joints are actuated is the file's verdict
(`underact.description.parse_description`, what `underact classify` prints), so the colours, the class and the
degree on the page all come from one place. A URDF mesh no engine can load (missing, `package://` not found,
Collada) is drawn as a simple shape: a sphere at the visual's origin and a rod to each child joint.
"""

from __future__ import annotations

import logging
import math
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from underact.description import Description, parse_description
from underact.errors import UnderactError
from underact.plants import BUILTINS, FILE_SUFFIXES

#: RGBA of links moved by an actuated joint, by a passive joint, and of links welded to the world.
ACTUATED = (0.93, 0.45, 0.05, 1.0)
PASSIVE = (0.12, 0.47, 0.92, 1.0)
FIXED = (0.55, 0.55, 0.58, 1.0)
#: Radius of the sphere that stands in for a mesh that cannot be loaded (metres).
STAND_IN_RADIUS = 0.03
#: Vertical field of view of Meshcat's default camera (a three.js perspective camera), degrees; a window at least
#: as wide as it is tall sees at least as much across.
CAMERA_FOV = 75.0
#: The camera stands this much farther than where the framed sphere would touch the view's edges.
CAMERA_MARGIN = 1.1


@dataclass
class RobotScene:
    """A built diagram (MultibodyPlant + SceneGraph + MeshcatVisualizer) and what the page says about it."""

    name: str
    description: Description
    diagram: object
    plant: object
    meshcat: object
    visualizer: object
    link_status: dict[str, str] = field(default_factory=dict)  # body name -> "actuated" | "passive" | "fixed"
    warnings: list[str] = field(default_factory=list)
    meshes: tempfile.TemporaryDirectory | None = None  # converted mesh files; kept until the scene is dropped
    parser_messages: list[str] = field(default_factory=list)  # what Drake's parser said, as a plant's

    @property
    def geometry_count(self) -> int:
        """Visual geometries registered for the robot's links (what Meshcat draws under /drake/visual)."""
        from underact.engines.drake import BodyIndex

        plant = self.plant
        return sum(len(plant.GetVisualGeometriesForBody(plant.get_body(BodyIndex(i)))) for i in
                   range(plant.num_bodies()))


def frame_camera(scene: RobotScene, contexts: list) -> None:
    """Points Meshcat's camera at the robot's reach in the plant contexts `contexts` (`reach_balls`), from the
    front-right and a little above (+y looks across the x–z plane the built-ins swing in), at the distance where the
    sphere around that reach fills `CAMERA_FOV` less the margin: every pose the joints can take stays in view (a
    joint that slides without limits, as far out as it is now)."""
    scene_graph = scene.diagram.GetSubsystemByName("scene_graph")
    balls = [b for c in contexts for b in reach_balls(scene.plant, scene_graph.model_inspector(), c)]
    centres = np.array([c for c, _ in balls])
    radii = np.array([r for _, r in balls])
    centre = ((centres - radii[:, None]).min(axis=0) + (centres + radii[:, None]).max(axis=0)) / 2
    radius = max(float(np.max(np.linalg.norm(centres - centre, axis=1) + radii)), 0.2)
    distance = CAMERA_MARGIN * radius / math.sin(math.radians(CAMERA_FOV) / 2)
    direction = np.array([0.45, 1.0, 0.35]) / np.linalg.norm([0.45, 1.0, 0.35])
    scene.meshcat.SetCameraPose(centre + distance * direction, centre)


def reach_balls(plant, inspector, context) -> list[tuple[np.ndarray, float]]:
    """Balls (world centre, radius) that hold every link's origin and visual geometry at any positions of the
    joints that move it, the rest of the robot as posed in `context`.

    Links welded to the world, and a floating base, stay where `context` puts them. A link below a joint that
    moves turns about that joint's pivot, so each of its points stays within a fixed distance of the pivot, and the
    pivot within its parent's ball grown by the parent's own distance pivot → joint and by how far the joint
    translates: a prismatic joint's limits, or its present offset when unbounded (the cart of the cart-pole).
    For the acrobot: one ball about the shoulder, of radius l1 + l2 plus the lower cylinder's overhang."""
    from underact.engines.drake import BodyIndex, JointIndex

    inbound = {}
    for i in range(plant.num_joints()):
        joint = plant.get_joint(JointIndex(i))
        inbound[joint.child_body().index()] = joint
    reach: dict = {}  # body index -> (pivot's ball centre, its radius, pivot in the body's frame; None: posed)

    def ball(body) -> tuple[np.ndarray, float, np.ndarray | None]:
        if body.index() not in reach:
            joint = inbound.get(body.index())
            if joint is None or joint.num_velocities() == 6:  # the world, a floating base: where it is
                reach[body.index()] = (np.zeros(3), 0.0, None)
                return reach[body.index()]
            centre, radius, pivot = ball(joint.parent_body())
            X_WP = plant.EvalBodyPoseInWorld(context, joint.parent_body())
            if joint.num_velocities() == 0:  # welded: posed with a posed parent, else turns about its pivot
                X_CW = plant.EvalBodyPoseInWorld(context, body).inverse()
                reach[body.index()] = (centre, radius, None if pivot is None else X_CW @ (X_WP @ pivot))
                return reach[body.index()]
            p_WF = joint.frame_on_parent().CalcPoseInWorld(context).translation()
            travel = float(np.linalg.norm(joint.frame_on_child().CalcPoseInWorld(context).translation() - p_WF))
            if joint.type_name() == "prismatic":
                limits = np.abs(np.concatenate([joint.position_lower_limits(), joint.position_upper_limits()]))
                travel = max([travel, *limits[np.isfinite(limits)]])
            p_CM = joint.frame_on_child().GetFixedPoseInBodyFrame().translation()
            if pivot is None:
                reach[body.index()] = (p_WF, travel, p_CM)
            else:
                p_PF = joint.frame_on_parent().GetFixedPoseInBodyFrame().translation()
                reach[body.index()] = (centre, radius + float(np.linalg.norm(p_PF - pivot)) + travel, p_CM)
        return reach[body.index()]

    balls = []
    for i in range(plant.num_bodies()):
        body = plant.get_body(BodyIndex(i))
        centre, radius, pivot = ball(body)
        X_WB = plant.EvalBodyPoseInWorld(context, body)
        points = [(np.zeros(3), 0.0)] if i > 0 else []  # the link's origin, then its visuals' bounding boxes
        for geometry in plant.GetVisualGeometriesForBody(body):
            obb = inspector.GetObbInGeometryFrame(geometry)
            if obb is not None:  # a half-space has no extent to frame
                size = float(np.linalg.norm(obb.half_width()))
                points.append((inspector.GetPoseInFrame(geometry) @ obb.center(), size))
        for p_B, size in points:
            if pivot is None:
                balls.append((X_WB @ p_B, size))
            else:
                balls.append((centre, radius + float(np.linalg.norm(p_B - pivot)) + size))
    return balls


def model_path(model: str) -> Path:
    """The description file for a built-in name (Drake's shipped example) or a user's file, checked."""
    if model in BUILTINS:  # the file of its Drake model (its record's `drake_file`, `underact.systems`)
        from underact.systems import get

        system = get(model)
        return system.drake_file(system.params())
    path = Path(model)
    if not path.exists():
        raise UnderactError(f"{model!r} is neither a built-in model ({', '.join(BUILTINS)}) nor an existing file")
    if path.is_dir():
        raise UnderactError(f"{path}: is a directory; give a .urdf, .sdf or MJCF .xml file")
    if path.suffix.lower() not in FILE_SUFFIXES:
        raise UnderactError(f"{path}: unknown file type {path.suffix!r}; expected .urdf, .sdf, .xml or .mjcf")
    return path


def build_scene(
    model: str, base: str = "auto", publish_period: float | None = None, actuation: str = "auto", strict: bool = False
) -> RobotScene:
    """The robot `model` (built-in name or file) in a Drake diagram drawn by a new `Meshcat` (no browser needed);
    `actuation` picks the file's actuators (`underact.description.actuation`); `strict` refuses an invalid inertia
    instead of repairing it, as `underact.load` does.

    `publish_period`: the visualizer's period, which sets a recording's frame rate (default: Drake's, 1/64 s)."""
    from underact.engines.drake import (
        AddMultibodyPlantSceneGraph,
        DiagramBuilder,
        Meshcat,
        MeshcatVisualizer,
        MeshcatVisualizerParams,
        Role,
        drake_log_level,
    )
    from underact.plants.files import check_base

    check_base(base)
    if model in BUILTINS and base != "auto":
        raise UnderactError(f"{model} is bolted to the world; --base applies to description files")
    path = model_path(model)
    description = parse_description(path, base, actuation)
    warnings = [] if model in BUILTINS else list(description.warnings)  # a built-in's are notes, not problems
    builder = DiagramBuilder()
    plant, scene_graph = AddMultibodyPlantSceneGraph(builder, 0.0)
    meshes = tempfile.TemporaryDirectory(prefix="underact-view-")  # OBJ copies of STL meshes, read at publish
    added, messages = _add_model(plant, path, FILE_SUFFIXES[path.suffix.lower()], base, Path(meshes.name), strict)
    warnings += added
    with drake_log_level(logging.ERROR):  # Drake warns that recolouring needs a visualizer reset; none exists yet
        link_status = _colour_links(plant, scene_graph, description)
    meshcat = shared_meshcat(Meshcat)
    params = MeshcatVisualizerParams()
    params.role = Role.kIllustration
    params.prefix = "visual"
    if publish_period is not None:
        params.publish_period = publish_period
    visualizer = MeshcatVisualizer.AddToBuilder(builder, scene_graph, meshcat, params)
    name = model if model in BUILTINS else description.name or path.stem
    return RobotScene(name, description, builder.Build(), plant, meshcat, visualizer, link_status, warnings, meshes,
                      messages)


_MESHCAT: list = []  # the process's one Meshcat (see `shared_meshcat`)


def shared_meshcat(meshcat_class) -> object:
    """The process's one `Meshcat`, cleared for a new page (scene, recording, controls).

    Drake's Meshcat must be destroyed on the thread that made it: a page's diagram dropped later by a garbage
    collection in another thread (a thread pool's, Ray's) aborted the whole process. One instance, kept until the
    interpreter exits on its main thread, also keeps a single (unused) server port."""
    from underact.engines.drake import drake_log_level

    if not _MESHCAT:
        with drake_log_level(logging.WARNING):  # Meshcat announces its (unused) port at INFO
            _MESHCAT.append(meshcat_class())
    meshcat = _MESHCAT[0]
    meshcat.Delete()
    meshcat.DeleteRecording()
    meshcat.DeleteAddedControls()
    return meshcat


def _add_model(plant, path: Path, kind: str, base: str, obj_dir: Path, strict: bool) -> tuple[list[str], list[str]]:
    """Parses the vetted file into `plant` as `underact.load` gives it to Drake (`underact.engines.drake`), with
    the base mode applied, and finalizes; returns the warnings (stand-ins for meshes, what was repaired) and
    Drake's parser messages. A URDF's STL meshes are converted to OBJ files in `obj_dir`."""
    from underact.engines.drake import drake_urdf, load_models
    from underact.plants.files import read_vetted

    read_vetted(path)
    if kind != "urdf":
        if base == "floating":
            raise UnderactError(f"{path}: --base floating is supported for URDF files; use auto or fixed")
        return [], load_models(plant, lambda parser: parser.AddModels(str(path)), str(path), base)
    root, warnings = _urdf_with_stand_ins(path, obj_dir)
    root, changed = drake_urdf(root, path.name, base, strict)
    text = ET.tostring(root, encoding="unicode")
    messages = load_models(plant, lambda parser: parser.AddModelsFromString(text, "urdf"), str(path),
                           "fixed" if base == "fixed" else "auto")
    return warnings + changed, messages


def _urdf_with_stand_ins(path: Path, obj_dir: Path) -> tuple[ET.Element, list[str]]:
    """`engine_urdf(path)` (unloadable meshes removed) without collision geometry, with a sphere and rods drawn
    for each removed visual mesh and STL meshes converted to OBJ in `obj_dir`; returns the tree and a warning
    naming what was replaced."""
    from underact.description import safe_parse
    from underact.description.sanitize import engine_urdf, removed_geometry

    root = ET.fromstring(engine_urdf(path))
    for link in root.findall("link"):  # a page draws visuals only (Drake hulls collision meshes, .stl refused)
        for collision in link.findall("collision"):
            link.remove(collision)
    missing = set(removed_geometry(path))
    for link in root.findall("link"):
        for visual in link.findall("visual"):
            mesh = visual.find("geometry/mesh")
            if mesh is not None and not _drawable(mesh, obj_dir):
                link.remove(visual)
                missing.add(mesh.get("filename"))
    if not missing:
        return root, []
    links = {link.get("name"): link for link in root.findall("link")}
    child_offsets: dict[str, list[list[float]]] = {}
    for joint in root.findall("joint"):
        parent, origin = joint.find("parent"), joint.find("origin")
        if parent is not None:
            xyz = _floats(origin.get("xyz") if origin is not None else None, 3)
            child_offsets.setdefault(parent.get("link"), []).append(xyz)
    drawn = []
    for link in safe_parse(path).findall("link"):
        removed = [v for v in link.findall("visual") if v.find("geometry/mesh") is not None
                   and v.find("geometry/mesh").get("filename", "") in missing]
        target = links.get(link.get("name"))
        if not removed or target is None:
            continue
        drawn.append(link.get("name"))
        for visual in removed:
            origin = visual.find("origin")
            target.append(_visual(origin.get("xyz", "0 0 0") if origin is not None else "0 0 0", "0 0 0",
                                  ET.Element("sphere", radius=f"{STAND_IN_RADIUS}")))
        for xyz in child_offsets.get(link.get("name"), []):
            rod = _rod(xyz)
            if rod is not None:
                target.append(rod)
    shown = ", ".join(sorted(missing)[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
    return root, [f"{len(missing)} mesh file(s) cannot be loaded ({shown}); links {', '.join(drawn)} are drawn "
                  "as spheres and rods"]


def _drawable(mesh: ET.Element, obj_dir: Path) -> bool:
    """Points `mesh` (an absolute file name from `engine_urdf`) at a file Meshcat draws, as a file:// URI (Drake
    parsing a string wants URIs): an STL is converted to OBJ in `obj_dir`. False for an STL that cannot be read."""
    from underact.view.stl import read_stl, write_obj

    source = Path(mesh.get("filename", ""))
    if source.suffix.lower() == ".stl":
        try:
            triangles = read_stl(source)
        except (OSError, ValueError):
            return False
        target = obj_dir / f"{len(list(obj_dir.iterdir()))}_{source.stem}.obj"
        write_obj(triangles, target)
        source = target
    mesh.set("filename", source.resolve().as_uri())
    return True


def _floats(text: str | None, n: int) -> list[float]:
    try:
        values = [float(x) for x in (text or "").split()]
    except ValueError:
        return [0.0] * n
    return values if len(values) == n else [0.0] * n


def _visual(xyz: str, rpy: str, shape: ET.Element) -> ET.Element:
    visual = ET.Element("visual")
    ET.SubElement(visual, "origin", xyz=xyz, rpy=rpy)
    ET.SubElement(visual, "geometry").append(shape)
    return visual


def _rod(xyz: list[float]) -> ET.Element | None:
    """A thin cylinder from the link frame's origin to `xyz` (a child joint's origin), or None if they coincide.

    URDF's cylinder lies along z; rpy = (0, pitch, yaw) turns z onto the direction d: Rz(yaw)·Ry(pitch)·z = d."""
    length = math.dist(xyz, (0.0, 0.0, 0.0))
    if length < 1e-6:
        return None
    x, y, z = xyz
    pitch, yaw = math.atan2(math.hypot(x, y), z), math.atan2(y, x)
    radius = min(max(0.1 * length, 0.005), STAND_IN_RADIUS / 2)
    return _visual(f"{x / 2} {y / 2} {z / 2}", f"0 {pitch} {yaw}",
                   ET.Element("cylinder", radius=f"{radius}", length=f"{length}"))


def _joint_status(plant, description: Description) -> dict[str, str]:
    """Each movable Drake joint → "actuated" or "passive", by the file's actuation (a mimic joint as its master);
    a joint the description does not name (a floating base) is passive unless Drake gave it an actuator."""
    from underact.engines.drake import JointActuatorIndex, JointIndex

    actuated = set(description.actuated_joints)
    mimic = {j.name: j.mimic for j in description.joints if j.mimic}
    known = {j.name for j in description.joints}
    drake_actuated = {plant.get_joint_actuator(JointActuatorIndex(i)).joint().name()
                      for i in range(plant.num_actuators())}
    status = {}
    for i in range(plant.num_joints()):
        joint = plant.get_joint(JointIndex(i))
        if joint.num_velocities() == 0:
            continue
        name = mimic.get(joint.name(), joint.name())
        is_actuated = name in actuated if name in known else joint.name() in drake_actuated
        status[joint.name()] = "actuated" if is_actuated else "passive"
    return status


def _colour_links(plant, scene_graph, description: Description) -> dict[str, str]:
    """Recolours every link's illustration geometry by the joint that moves it; returns body name → status."""
    from underact.engines.drake import BodyIndex, IllustrationProperties, JointIndex, Rgba, RoleAssign

    joint_status = _joint_status(plant, description)
    inbound = {}
    for i in range(plant.num_joints()):
        joint = plant.get_joint(JointIndex(i))
        inbound[joint.child_body().index()] = joint
    colours = {"actuated": ACTUATED, "passive": PASSIVE, "fixed": FIXED}
    inspector = scene_graph.model_inspector()
    link_status = {}
    for i in range(1, plant.num_bodies()):
        body = plant.get_body(BodyIndex(i))
        status, walker = "fixed", body
        while walker.index() in inbound:
            joint = inbound[walker.index()]
            if joint.name() in joint_status:
                status = joint_status[joint.name()]
                break
            walker = joint.parent_body()
        link_status[body.name()] = status
        for geometry in plant.GetVisualGeometriesForBody(body):
            props = IllustrationProperties(inspector.GetIllustrationProperties(geometry))
            props.UpdateProperty("phong", "diffuse", Rgba(*colours[status]))
            scene_graph.AssignRole(plant.get_source_id(), geometry, props, RoleAssign.kReplace)
    return link_status
