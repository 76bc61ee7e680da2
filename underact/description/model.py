"""What a robot description says about actuation: joints, base, the actuation map, and the verdict.

Every format reader (URDF, SDF, MJCF) fills the same `Description`. The verdict comes from one rule for all
formats: `actuated` is the rank of the actuation map `A` (actuators × independent velocity coordinates), `dof`
is the number of independent velocity coordinates (a floating base adds 6), `degree = dof − actuated`, and the
class is fully-actuated iff the degree is 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

BASE = "<floating base>"
"""Owner name of the 6 velocity coordinates a floating base adds (k = 0..2 translation, 3..5 rotation)."""


@dataclass(frozen=True)
class Joint:
    """A joint as the file declares it. `dof` counts velocities; `mimic` names the joint it follows."""

    name: str
    type: str
    parent: str
    child: str
    dof: int
    mimic: str | None = None
    effort: float | None = None


@dataclass
class Description:
    """A robot description reduced to what actuation analysis needs.

    `coordinates` labels the independent velocity coordinates as (owner joint, k) pairs, the floating base's 6
    first (owner `BASE`) when floating; `moment` (n_actuators, len(coordinates)) maps actuator inputs to
    generalized forces on them. `joints` lists every joint in the file, fixed and mimic ones included.
    """

    path: str
    name: str
    format: str
    joints: list[Joint]
    links: list[str]
    root: str
    base: str
    actuation_source: str
    coordinates: list[tuple[str, int]]
    moment: np.ndarray
    warnings: list[str] = field(default_factory=list)
    unresolved_meshes: list[str] = field(default_factory=list)
    bolted: dict[str, object] | None = None

    @property
    def independent_joints(self) -> list[Joint]:
        """Movable joints that are not mimic joints and not the floating base."""
        names = {owner for owner, _ in self.coordinates}
        return [j for j in self.joints if j.name in names]

    @property
    def dof(self) -> int:
        return len(self.coordinates)

    @cached_property
    def actuated(self) -> int:
        return actuation_rank(self.moment)

    @property
    def degree(self) -> int:
        return self.dof - self.actuated

    @property
    def cls(self) -> str:
        return "fully-actuated" if self.degree == 0 else "underactuated"

    @property
    def actuated_joints(self) -> list[str]:
        """Independent joints some actuator acts on (non-zero moment arm on one of their coordinates)."""
        return [j.name for j in self.independent_joints if self._driven(j.name)]

    @property
    def unactuated_joints(self) -> list[str]:
        """Independent joints no actuator acts on. Coupled underactuation (one tendon driving two joints)
        shows in `degree` but not here."""
        return [j.name for j in self.independent_joints if not self._driven(j.name)]

    def _driven(self, joint: str) -> bool:
        columns = [i for i, (owner, _) in enumerate(self.coordinates) if owner == joint]
        return bool(self.moment.shape[0]) and bool(np.any(np.abs(self.moment[:, columns]) > 0))

    def to_json(self) -> dict[str, object]:
        """The issue's JSON line schema for a file that was classified."""
        return {
            "path": self.path,
            "ok": True,
            "name": self.name,
            "format": self.format,
            "class": self.cls,
            "base": self.base,
            "dof": self.dof,
            "actuated": self.actuated,
            "degree": self.degree,
            "unactuated_joints": self.unactuated_joints,
            "actuation_source": self.actuation_source,
            "warnings": list(self.warnings),
        }


def actuation_rank(moment: np.ndarray) -> int:
    """Rank of an actuation map (rows: actuators, columns: coordinates), with a scale-aware tolerance.
    Rows with non-finite entries (a NaN gear) are left out."""
    moment = moment[np.isfinite(moment).all(axis=-1)]
    if moment.size == 0:
        return 0
    return int(np.linalg.matrix_rank(moment, tol=1e-9 * max(1.0, float(np.abs(moment).max()))))


def assemble(
    *,
    path: Path,
    name: str,
    format: str,
    joints: list[Joint],
    independent: list[str],
    links: list[str],
    root: str,
    floating: bool,
    source: str,
    moment_rows: list[dict[tuple[str, int], float]],
    warnings: list[str],
    base_mode: str,
    actuation_mode: str,
    unresolved_meshes: list[str] | None = None,
) -> Description:
    """Builds a `Description` from a reader's findings, applying `--base` and `--actuation`.

    `independent` names the independent movable joints in order (the reader leaves out mimic joints and the
    joint that is the floating base); `moment_rows` holds one {(joint, k): moment arm} dict per actuator,
    where the floating base's coordinates are (`BASE`, 0..5).
    """
    by_name = {j.name: j for j in joints}
    coords = [(name, k) for name in independent for k in range(by_name[name].dof)]
    if base_mode == "auto":
        base = "floating" if floating else "fixed"
    else:
        base = base_mode
    all_coords = [(BASE, k) for k in range(6)] + coords
    finite = [row for row in moment_rows if all(math.isfinite(v) for v in row.values())]
    if len(finite) < len(moment_rows):
        warnings.append(f"{len(moment_rows) - len(finite)} actuator(s) with non-finite moment arms (gear); ignored")
    rows = [row for row in finite if any(v != 0 for v in row.values())]
    if actuation_mode == "all":
        rows = rows + [{c: 1.0} for c in coords]
        source = "all"

    def build(base_here: str) -> tuple[list[tuple[str, int]], np.ndarray]:
        columns = all_coords if base_here == "floating" else coords
        index = {c: i for i, c in enumerate(columns)}
        moment = np.zeros((len(rows), len(columns)))
        for r, row in enumerate(rows):
            for c, value in row.items():
                if c in index:
                    moment[r, index[c]] += value
        return columns, moment

    columns, moment = build(base)
    desc = Description(
        path=str(path),
        name=name,
        format=format,
        joints=joints,
        links=links,
        root=root,
        base=base,
        actuation_source=source,
        coordinates=columns,
        moment=moment,
        warnings=warnings,
        unresolved_meshes=unresolved_meshes or [],
    )
    if base == "floating" and base_mode == "auto":
        fixed_columns, fixed_moment = build("fixed")
        dof, actuated = len(fixed_columns), actuation_rank(fixed_moment)
        desc.bolted = {
            "dof": dof,
            "actuated": actuated,
            "degree": dof - actuated,
            "class": "fully-actuated" if dof == actuated else "underactuated",
        }
    return desc
