"""`write_view_html`: one offline Meshcat page of a robot at one configuration, joints coloured by actuation.

The page names the file's verdict (class, degree of underactuation, actuated and passive joints, unactuated
directions in the velocity coordinates of `underact classify`); with `backend`, also what `underact analyze`
finds on that engine (rank of M⁻¹B over sampled configurations), which can differ from the file's verdict when
the engine reads actuators differently (Drake needs URDF `<transmission>`s).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from underact.analysis.linearize import MAX_COORDINATE
from underact.description import BASE, Description
from underact.errors import UnderactError
from underact.plants.base import FLOATING_VELOCITY_ORDER
from underact.view.page import check_html_path, finish, panel, write_page
from underact.view.scene import ACTUATED, FIXED, PASSIVE, build_scene, frame_camera

#: Configurations `--backend` samples for its M⁻¹B analysis (as `underact analyze --samples`).
ANALYSIS_SAMPLES = 20


def coordinate_labels(description: Description) -> list[str]:
    """Velocity coordinates by name: a one-DoF joint by its name, a floating base as base_wx … base_vz."""
    dofs = {j.name: j.dof for j in description.joints}
    labels = []
    for owner, k in description.coordinates:
        if owner == BASE:
            labels.append(f"base_{FLOATING_VELOCITY_ORDER[k]}")
        else:
            labels.append(owner if dofs.get(owner, 1) == 1 else f"{owner}[{k}]")
    return labels


def _direction_text(direction: np.ndarray, labels: list[str]) -> str:
    return " ".join(f"{c:+.3g}·{n}" for c, n in zip(direction, labels, strict=True) if abs(c) > 1e-9)


def unactuated_directions(description: Description) -> list[str]:
    """The null space of the file's actuation map (directions no actuator's generalized force reaches), as text."""
    from underact.analysis import unactuated_basis

    labels = coordinate_labels(description)
    return [_direction_text(d, labels) for d in unactuated_basis(description.moment.T)]


def verdict(description: Description) -> str:
    if description.degree == 0:
        return "fully-actuated"
    return f"underactuated, degree {description.degree}"


def _engine_lines(model: str, backend: str, base: str, actuation: str, strict: bool) -> tuple[list[str], object]:
    """`underact analyze`'s class, degree and unactuated directions on `backend` (dependent joints reduced, as
    `analyze` does), and the plant whose warnings the command reports."""
    from underact.analysis import analyze
    from underact.plants import load
    from underact.plants.dependent import reduce_dependent

    plant = reduce_dependent(load(model, backend, base=base, actuation=actuation, strict=strict), model, base,
                             actuation)
    if plant.nv == 0:
        return [f"{backend}: nothing moves, nothing to analyze"], plant
    report = analyze(plant, samples=ANALYSIS_SAMPLES)
    degree = f", degree {report.degree}" if report.degree else ""
    lines = [f"{backend} (M⁻¹B over {report.samples} configurations): {report.cls}{degree}"]
    lines += [f"{backend} unactuated direction: {_direction_text(d, report.velocity_names)}"
              for d in report.unactuated_directions]
    return lines, plant


def write_view_html(
    model: str,
    path: str | Path,
    q: np.ndarray | None = None,
    base: str = "auto",
    backend: str | None = None,
    actuation: str = "auto",
    strict: bool = False,
) -> dict:
    """Writes the page of `model` (built-in name or URDF/SDF/MJCF file) at positions `q` (Drake's order; default:
    the model's default positions) to `path`; returns the page's record (what the JSON block in it holds).
    `actuation` picks the file's actuators (`underact.description.actuation`); with `backend`, the record's
    "plant" is the engine's plant (its `warnings` and `parser_messages` are the command's to report)."""
    from underact.plants import BUILTINS

    if model in BUILTINS and actuation != "auto":
        raise UnderactError(f"{model} has its own actuators; --actuation applies to description files")
    target = check_html_path(path, "--out")
    scene = build_scene(model, base, actuation=actuation, strict=strict)
    plant = scene.plant
    context = scene.diagram.CreateDefaultContext()
    if q is not None:
        q = np.asarray(q, dtype=np.float64)
        if q.shape != (plant.num_positions(),) or not np.all(np.abs(q) <= MAX_COORDINATE):
            raise UnderactError(f"--q needs {plant.num_positions()} finite values for {scene.name}, each within "
                                f"±{MAX_COORDINATE:g} (Drake's "
                                f"positions: {', '.join(plant.GetPositionNames(add_model_instance_prefix=False))})")
        plant.SetPositions(plant.GetMyMutableContextFromRoot(context), q)
    scene.diagram.ForcedPublish(context)
    frame_camera(scene, [plant.GetMyContextFromRoot(context)])
    desc = scene.description
    heading = f"{scene.name}: {verdict(desc)}"
    directions = unactuated_directions(desc)
    lines = [
        f"{desc.dof} DoF ({desc.base} base), {desc.actuated} actuated; actuation: {desc.actuation_source}",
        f"actuated joints: {', '.join(desc.actuated_joints) or 'none'}",
        f"passive joints: {', '.join(desc.unactuated_joints) or 'none'}"
        + ("; the floating base is passive (6 DoF)" if desc.base == "floating" else ""),
        f"unactuated directions: {'; '.join(directions) or 'none'}",
    ]
    engine_plant = None
    if backend is not None:
        engine_lines, engine_plant = _engine_lines(model, backend, base, actuation, strict)
        lines += engine_lines
    legend = [(ACTUATED, "link moved by an actuated joint"), (PASSIVE, "link moved by a passive joint"),
              (FIXED, "link fixed to the world")]
    record = {
        "kind": "view",
        "name": scene.name,
        "class": desc.cls,
        "degree": desc.degree,
        "dof": desc.dof,
        "actuated_joints": desc.actuated_joints,
        "passive_joints": desc.unactuated_joints,
        "unactuated_directions": directions,
        "links": scene.link_status,
        "geometries": scene.geometry_count,
        "warnings": scene.warnings,
        "parser_messages": scene.parser_messages,
    }
    if engine_plant is not None:
        record["engine"] = {"backend": backend, "warnings": list(engine_plant.warnings),
                            "parser_messages": list(getattr(engine_plant, "parser_messages", ()))}
    title = f"underact view: {heading}"
    write_page(target, finish(scene.meshcat.StaticHtml(), title, panel(heading, legend, lines, scene.warnings),
                              record))
    return record
