"""What a robot description says about actuation: joints, base, the actuation map, and the verdict.

Every format reader (URDF, SDF, MJCF) fills the same `Description`. The verdict comes from one rule for all
formats: `actuated` is the rank of the actuation map `A` (actuators × independent velocity coordinates), `dof`
is the number of independent velocity coordinates (a floating base adds 6), `degree = dof − actuated`, and the
class is fully-actuated iff the degree is 0.

The actuation map is kept sparse (one {column: moment arm} dict per actuator) and its rank is taken block by
block: rows and columns split into connected components (columns linked by a row acting on both), each
component's rank computed on its own, dense, and summed. A component with one row or one column (a motor on
its own joint, the usual case) needs no factorisation, so a 20,000-joint chain ranks in linear time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from underact.description.actuation import Actuator, check_mode
from underact.description.actuation import actuators as resolve_actuators
from underact.description.xml import DescriptionError

MAX_DENSE_BLOCK = 4_000_000
"""Largest block of coupled actuators × coordinates `sparse_rank` factorises (dense SVD, about a second)."""

BASE = "<floating base>"
"""Owner name of the 6 velocity coordinates a floating base adds: (BASE, k) is the k-th of
`underact.plants.base.FLOATING_VELOCITY_ORDER` (angular first, as the plants)."""


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
    first (owner `BASE`) when floating; `arms` holds one {column of `coordinates`: moment arm} dict per
    actuator, the sparse rows of the actuation map `moment` (n_actuators, len(coordinates)) from actuator
    inputs to generalized forces. `joints` lists every joint in the file, fixed and mimic ones included.

    `actuators` are the actuators under `actuation_mode` (`underact.description.actuation`), in the joints'
    own coordinates, one per row of `arms`; `declared_actuators` what the file declares (`declares_actuators`:
    whether it declares any). `dependent` maps each dependent joint (URDF mimic, MJCF joint equality) to
    (the independent joint it follows or None when locked, multiplier, offset): q_d = multiplier·q + offset.
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
    arms: list[dict[int, float]]
    warnings: list[str] = field(default_factory=list)
    unresolved_meshes: list[str] = field(default_factory=list)
    bolted: dict[str, object] | None = None
    actuators: list[Actuator] = field(default_factory=list)
    declared_actuators: list[Actuator] = field(default_factory=list)
    declares_actuators: bool = False
    actuation_mode: str = "auto"
    dependent: dict[str, tuple[str | None, float, float]] = field(default_factory=dict)

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
        return sparse_rank(self.arms)

    @property
    def moment(self) -> np.ndarray:
        """The actuation map as a dense (n_actuators, dof) array."""
        moment = np.zeros((len(self.arms), len(self.coordinates)))
        for r, row in enumerate(self.arms):
            for c, value in row.items():
                moment[r, c] = value
        return moment

    @property
    def degree(self) -> int:
        return self.dof - self.actuated

    @property
    def cls(self) -> str:
        return "fully-actuated" if self.degree == 0 else "underactuated"

    @property
    def actuated_joints(self) -> list[str]:
        """Independent joints some actuator acts on (non-zero moment arm on one of their coordinates)."""
        driven = self._driven
        return [j.name for j in self.independent_joints if j.name in driven]

    @property
    def unactuated_joints(self) -> list[str]:
        """Independent joints no actuator acts on. Coupled underactuation (one tendon driving two joints)
        shows in `degree` but not here."""
        driven = self._driven
        return [j.name for j in self.independent_joints if j.name not in driven]

    @cached_property
    def _driven(self) -> set[str]:
        return {self.coordinates[c][0] for row in self.arms for c, value in row.items() if value != 0}

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
    """Rank of a dense actuation map (rows: actuators, columns: coordinates), with a scale-aware tolerance.
    Rows with non-finite entries (a NaN gear) are left out."""
    moment = np.asarray(moment, dtype=float)
    return sparse_rank([{int(c): float(row[c]) for c in np.flatnonzero(row)} for row in moment])


def sparse_rank(rows: Sequence[Mapping[int, float]]) -> int:
    """Rank of the actuation map whose rows are {column: value} dicts, equal to numpy's `matrix_rank` of the
    dense map with tolerance 1e-9·max(1, max |entry|); rows with non-finite entries are left out.

    The map is block diagonal up to permutations of rows and columns, one block per connected component, so
    its singular values are those of the blocks and its rank, with the same tolerance, is the sum of theirs.
    A column reached only by single-entry rows (a motor on its own joint) is a block whose one singular value
    is the norm of its entries; the other blocks are ranked dense, each on its own."""
    rows = [{c: v for c, v in row.items() if v != 0} for row in rows if all(math.isfinite(v) for v in row.values())]
    rows = [row for row in rows if row]
    if not rows:
        return 0
    tol = 1e-9 * max(1.0, max(abs(v) for row in rows for v in row.values()))
    parent: dict[int, int] = {}  # union-find over the columns of rows with several entries

    def find(c: int) -> int:
        root = c
        while parent[root] != root:
            root = parent[root]
        while parent[c] != root:  # path compression keeps the finds near constant time
            parent[c], c = root, parent[c]
        return root

    for row in rows:
        if len(row) > 1:
            columns = list(row)
            for c in columns:
                parent.setdefault(c, c)
            first = find(columns[0])
            for c in columns[1:]:
                parent[find(c)] = first
    lone: dict[int, float] = {}  # column reached only by single-entry rows -> sum of squares of its entries
    blocks: dict[int, list[Mapping[int, float]]] = {}
    for row in rows:
        column = next(iter(row))
        if column in parent:
            blocks.setdefault(find(column), []).append(row)
        else:
            lone[column] = lone.get(column, 0.0) + row[column] ** 2
    rank = sum(math.sqrt(squares) > tol for squares in lone.values())
    for block in blocks.values():
        columns = sorted({c for row in block for c in row})
        if len(block) * len(columns) > MAX_DENSE_BLOCK:
            raise DescriptionError(
                f"{len(block)} actuators couple {len(columns)} coordinates in one block, too large to rank "
                f"(limit {MAX_DENSE_BLOCK} entries)"
            )
        index = {c: i for i, c in enumerate(columns)}
        dense = np.zeros((len(block), len(columns)))
        for r, row in enumerate(block):
            for c, v in row.items():
                dense[r, index[c]] = v
        rank += int(np.linalg.matrix_rank(dense, tol=tol))
    return int(rank)


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
    declared: list[Actuator],
    declares: bool,
    warnings: list[str],
    base_mode: str,
    actuation_mode: str,
    dependent: dict[str, tuple[str | None, float, float]] | None = None,
    unresolved_meshes: list[str] | None = None,
) -> Description:
    """Builds a `Description` from a reader's findings, applying `--base` and `--actuation`.

    `independent` names the independent movable joints in order (the reader leaves out dependent joints and
    the joint that is the floating base); `declared` holds the file's actuators (`declares`: whether the file
    declares any, even if none of them counts), their columns in the joints' own coordinates, the floating
    base's as (`BASE`, 0..5); `dependent` maps each dependent joint to (the joint it follows or None when
    locked, multiplier, offset), and an actuator's share on a dependent joint moves onto the joint it follows.
    """
    mode = check_mode(actuation_mode)
    dependent = dependent or {}
    by_name = {j.name: j for j in joints}
    coords = [(name, k) for name in independent for k in range(by_name[name].dof)]
    if base_mode == "auto":
        base = "floating" if floating else "fixed"
    else:
        base = base_mode
    all_coords = [(BASE, k) for k in range(6)] + coords
    finite = [a for a in declared if all(math.isfinite(v) for v in a.column.values())]
    if len(finite) < len(declared):
        warnings.append(f"{len(declared) - len(finite)} actuator(s) with non-finite moment arms (gear); ignored")
    desc = Description(
        path=str(path),
        name=name,
        format=format,
        joints=joints,
        links=links,
        root=root,
        base=base,
        actuation_source=source,
        coordinates=coords,
        arms=[],
        warnings=warnings,
        unresolved_meshes=unresolved_meshes or [],
        declared_actuators=finite,
        declares_actuators=declares,
        actuation_mode=mode,
        dependent=dependent,
    )
    chosen = resolve_actuators(desc, mode)
    if mode == "assumed" or (mode == "auto" and not declares):
        desc.actuation_source = "assumed"
        if mode == "auto" and chosen:
            what = {"urdf": "<transmission> or <ros2_control>", "mjcf": "<actuator>"}.get(format, "actuator")
            warnings.append(f"no {what} in the file: every independent joint assumed actuated")
    elif not finite and mode == "declared":
        warnings.append("--actuation declared: the file declares no actuators; nothing is actuated")
    desc.actuators = chosen
    rows = [fold(a.column, dependent) for a in chosen]

    def build(base_here: str) -> tuple[list[tuple[str, int]], list[dict[int, float]]]:
        columns = all_coords if base_here == "floating" else coords
        index = {c: i for i, c in enumerate(columns)}
        arms = []
        for row in rows:
            arm: dict[int, float] = {}
            for c, value in row.items():
                if c in index:
                    arm[index[c]] = arm.get(index[c], 0.0) + value
            arms.append(arm)
        return columns, arms

    desc.coordinates, desc.arms = build(base)
    desc.actuated  # noqa: B018  (ranked now: a map too large to rank is refused while the file is read)
    if base == "floating" and base_mode == "auto":
        fixed_columns, fixed_arms = build("fixed")
        dof, actuated = len(fixed_columns), sparse_rank(fixed_arms)
        desc.bolted = {
            "dof": dof,
            "actuated": actuated,
            "degree": dof - actuated,
            "class": "fully-actuated" if dof == actuated else "underactuated",
        }
    return desc


def fold(
    column: dict[tuple[str, int], float], dependent: dict[str, tuple[str | None, float, float]]
) -> dict[tuple[str, int], float]:
    """An actuator's column with each dependent joint's share moved onto the joint it follows (virtual work: a
    torque τ on a joint q_d = c·q_m acts as c·τ on q_m); a locked joint's share is dropped."""
    folded: dict[tuple[str, int], float] = {}
    for (owner, k), value in column.items():
        if owner in dependent:
            master, multiplier, _ = dependent[owner]
            if master is None:
                continue
            owner, value = master, value * multiplier
        folded[(owner, k)] = folded.get((owner, k), 0.0) + value
    return folded
