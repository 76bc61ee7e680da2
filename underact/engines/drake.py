"""Drake, in one place: the pydrake imports, what Drake logs, how Drake reads a model.

`underact.plants.drake` (the terms), `underact.simulate.drake` (the simulator) and `underact.view.scene` (Meshcat)
take pydrake's classes from here. `load_models` parses into a given `MultibodyPlant` (the base mode applied,
finalized, every failure one `UnderactError` line) and returns what Drake's parser said (its Python logger `drake`,
collected by `drake_messages`); `drake_urdf` is the URDF Drake is given; `drake_log_level` quiets Drake's notes.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pydrake
from pydrake.autodiffutils import ExtractGradient, InitializeAutoDiff
from pydrake.geometry import (
    IllustrationProperties,
    Meshcat,
    MeshcatVisualizer,
    MeshcatVisualizerParams,
    Rgba,
    Role,
    RoleAssign,
)
from pydrake.multibody.parsing import Parser
from pydrake.multibody.plant import AddMultibodyPlantSceneGraph, MultibodyPlant
from pydrake.multibody.tree import BodyIndex, JointActuatorIndex, JointIndex
from pydrake.systems.analysis import ResetIntegratorFromFlags, Simulator
from pydrake.systems.framework import BasicVector, Context, DiagramBuilder, LeafSystem
from pydrake.systems.primitives import LogVectorOutput

from underact.errors import UnderactError, one_line

__all__ = [
    "AddMultibodyPlantSceneGraph", "BasicVector", "BodyIndex", "Context", "DiagramBuilder", "ExtractGradient",
    "IllustrationProperties", "InitializeAutoDiff", "JointActuatorIndex", "JointIndex", "LeafSystem",
    "LogVectorOutput", "Meshcat", "MeshcatVisualizer", "MeshcatVisualizerParams", "MultibodyPlant",
    "ResetIntegratorFromFlags", "Rgba", "Role", "RoleAssign", "Simulator", "drake_examples_dir", "drake_log_level",
    "drake_messages", "drake_urdf", "load_models",
]


def drake_examples_dir() -> Path:
    """The example models that ship inside the drake wheel (no download needed)."""
    return Path(pydrake.__file__).parent / "share" / "drake" / "examples"




@contextmanager
def drake_messages(messages: list[str]) -> Iterator[None]:
    """What Drake logs at WARNING and above while the block runs (Python logging, logger `drake`), appended to
    `messages` one line each instead of reaching stderr."""

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(" ".join(record.getMessage().split()))

    logger = logging.getLogger("drake")
    handler, propagate = Collect(logging.WARNING), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


@contextmanager
def drake_log_level(level: int) -> Iterator[None]:
    """Drake's log messages below `level` dropped while the block runs (Meshcat's INFO notes, say)."""
    logger = logging.getLogger("drake")
    previous = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)


def load_models(plant: MultibodyPlant, add_models, label: str, base: str = "auto", prepare=None) -> list[str]:
    """Parses into `plant` (`add_models(parser)`), applies the base mode, calls `prepare(plant)` (e.g. to add
    actuators), finalizes; returns what Drake's parser said (`drake_messages`). Every Drake failure is one line
    naming `label`.

    pydrake raises `SystemExit` for failed internal checks; it is caught here so it cannot end a caller."""
    messages: list[str] = []
    try:
        with drake_messages(messages):
            add_models(Parser(plant))
            if base == "fixed":
                for body in _free_bodies(plant):
                    plant.WeldFrames(plant.world_frame(), body.body_frame())
            if prepare is not None:
                prepare(plant)
            plant.Finalize()
    except (Exception, SystemExit) as exc:  # Drake raises RuntimeError/ValueError/SystemExit, multi-line
        raise UnderactError(f"{label}: Drake could not load the model: {one_line(exc)}") from None
    return messages


def drake_urdf(root: ET.Element, label: str, base: str, strict: bool) -> tuple[ET.Element, list[str]]:
    """The URDF Drake is given, from `engine_urdf`'s tree `root`: the base mode ("floating" frees a root bolted to
    the world), a massless link that moves given a tiny mass, an invalid inertia repaired (`strict` refuses it),
    transmissions removed (the actuation model makes the actuators); returns it and a warning for each change."""
    from underact.plants.files import (
        MIN_MASS,
        massless_with_inertia,
        repair_inertias,
        strip_transmissions,
        urdf_with_base,
    )

    if base == "floating":
        root = urdf_with_base(ET.tostring(root, encoding="unicode"), label, base)[0]
    warnings = massless_with_inertia(root, MIN_MASS)
    warnings += repair_inertias(root, label, strict)
    strip_transmissions(root)
    return root, warnings


def _free_bodies(plant: MultibodyPlant) -> list:
    """Bodies no joint moves (before Finalize): each would become a floating base."""
    children = {plant.get_joint(JointIndex(i)).child_body().index() for i in range(plant.num_joints())}
    bodies = [plant.get_body(BodyIndex(i)) for i in range(1, plant.num_bodies())]
    return [b for b in bodies if b.index() not in children]
