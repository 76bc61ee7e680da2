"""The actuation analyzer: is a plant fully actuated, by how much is it not, where, and is it controllable?

With v̇ = f1(q, v) + f2(q) u, f2 = M⁻¹B (Tedrake, "Underactuated Robotics", §1.2): a plant is fully actuated at q
iff rank f2(q) = nv (velocities, so quaternion bases are judged correctly), otherwise underactuated there. The
report samples configurations (seeded), gives the minimum and maximum rank, where it drops, the unactuated
force directions, and the controllability of the linearisation at an equilibrium.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.io
from tqdm import tqdm

from underact.analysis.linearize import check_equilibrium, check_mass_matrix, controllability_rank, linearize
from underact.errors import UnderactError
from underact.files import replacing
from underact.plants.base import Plant

#: Configurations per batched `terms` call while sampling; bounds memory for large models and sample counts.
CHUNK = 2000
#: Sampling this many configurations or more shows a progress bar on stderr (when `progress=True`).
PROGRESS_FROM = 10_000


def matrix_ranks(mats: np.ndarray, rtol: float = 1e-9) -> np.ndarray:
    """Numerical ranks of a stack of matrices (…, m, n): singular values above rtol · max(1, largest)."""
    s = np.linalg.svd(mats, compute_uv=False)
    if s.shape[-1] == 0:
        return np.zeros(mats.shape[:-2], dtype=int)
    scale = np.maximum(s[..., :1], 1.0)
    return np.sum(s > rtol * scale, axis=-1)


def unactuated_basis(B: np.ndarray, rtol: float = 1e-9) -> np.ndarray:
    """Orthonormal basis (k, nv) of the generalized-force directions no input reaches: the null space of Bᵀ."""
    nv = B.shape[0]
    if B.shape[1] == 0:
        return np.eye(nv)
    u, s, _ = np.linalg.svd(B)
    r = int(np.sum(s > rtol * max(1.0, s.max())))
    basis = u[:, r:].T
    # Sign convention: the largest-magnitude entry of each direction is positive.
    signs = np.sign(basis[np.arange(len(basis)), np.abs(basis).argmax(axis=1)]) if len(basis) else []
    return basis * np.asarray(signs)[:, None] if len(basis) else basis


@dataclass
class ActuationReport:
    """What `underact analyze` prints; `to_json()` has the issue's exact keys."""

    name: str
    backend: str
    nq: int
    nv: int
    nu: int
    rank: int
    rank_max: int
    samples: int
    unactuated_directions: np.ndarray
    velocity_names: list[str]
    equilibrium: np.ndarray
    rank_drops: list[list[float]] = field(default_factory=list)
    A_lin: np.ndarray | None = None
    B_lin: np.ndarray | None = None
    M_eq: np.ndarray | None = None
    B_eq: np.ndarray | None = None
    controllability_rank: int | None = None

    @property
    def cls(self) -> str:
        return "fully-actuated" if self.rank == self.nv else "underactuated"

    @property
    def degree(self) -> int:
        return self.nv - self.rank

    @property
    def controllable(self) -> bool | None:
        if self.controllability_rank is None:
            return None
        return self.controllability_rank == 2 * self.nv

    def to_json(self) -> dict:
        return {
            "nq": self.nq,
            "nv": self.nv,
            "nu": self.nu,
            "rank": self.rank,
            "rank_max": self.rank_max,
            "class": self.cls,
            "degree": self.degree,
            "unactuated_directions": (np.round(self.unactuated_directions, 12) + 0.0).tolist(),
            "equilibrium": self.equilibrium.tolist(),
            "controllable": self.controllable,
            "controllability_rank": self.controllability_rank,
        }

    def text(self) -> str:
        lines = [
            f"{self.name} ({self.backend}): nq={self.nq} nv={self.nv} nu={self.nu}",
            f"  rank of f2 = M⁻¹B over {self.samples} configurations: min {self.rank}, max {self.rank_max}",
            f"  class: {self.cls}" + (f" (degree of underactuation {self.degree})" if self.degree else ""),
        ]
        for d in self.unactuated_directions:
            named = ", ".join(f"{c:+.3g}·{n}" for c, n in zip(d, self.velocity_names, strict=True) if abs(c) > 1e-9)
            lines.append(f"  unactuated direction: {named}")
        if self.rank_drops:
            lines.append(
                f"  rank drops below {self.rank_max} at {len(self.rank_drops)} sampled configurations, e.g. "
                f"q = {np.round(self.rank_drops[0], 3).tolist()}"
            )
        if self.controllability_rank is None:
            lines.append("  linearisation: not computed (nq != nv)")
        else:
            verdict = "controllable" if self.controllable else "NOT controllable"
            lines.append(
                f"  linearisation at q = {np.round(self.equilibrium, 4).tolist()}: {verdict} "
                f"(controllability rank {self.controllability_rank} of {2 * self.nv})"
            )
        return "\n".join(lines)

    def write_mat(self, path: str | Path) -> None:
        """M, B at the equilibrium and A_lin, B_lin to a MATLAB .mat file (scipy writes column-major, as MATLAB).

        Writes exactly `path` (which must end in .mat), atomically: a temporary file in the same folder is
        renamed over it, so a reader never sees half a file and a failed write leaves nothing behind.
        """
        target = check_mat_path(path)
        arrays = {"M": self.M_eq, "B": self.B_eq, "q_eq": self.equilibrium}
        if self.A_lin is not None:
            arrays |= {"A_lin": self.A_lin, "B_lin": self.B_lin}
        arrays = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
        with replacing(target) as tmp, open(tmp, "wb") as f:
            scipy.io.savemat(f, arrays, oned_as="column")


def check_mat_path(path: str | Path) -> Path:
    """`path` as a Path if a .mat file can be written there; otherwise one-line `UnderactError`s naming why."""
    target = Path(path)
    if target.is_dir():
        raise UnderactError(f"{target}: is a directory; give a file name ending in .mat")
    if target.suffix.lower() != ".mat":
        raise UnderactError(f"{target}: a MATLAB file name must end in .mat (it is written exactly as given)")
    if target.exists() and not target.is_file():
        raise UnderactError(f"{target}: exists and is not a regular file; give a file name ending in .mat")
    if not target.parent.is_dir():
        raise UnderactError(f"{target}: {target.parent} is not an existing folder")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise UnderactError(f"{target}: the folder {target.parent} is not writable")
    return target


def analyze(
    plant: Plant, equilibrium=None, samples: int = 100, seed: int = 0, progress: bool = False
) -> ActuationReport:
    """Rank of f2 over `samples` random configurations plus the equilibrium; linearisation at the equilibrium.

    `progress` shows a progress bar on stderr when `samples` ≥ `PROGRESS_FROM`. Raises `UnderactError` for an
    equilibrium that is not finite or too large (`check_equilibrium`), `SingularMassMatrixError` where M(q) is singular.
    """
    q_eq = check_equilibrium(plant, plant.upright if equilibrium is None else equilibrium)
    rng = np.random.default_rng(seed)
    q = np.concatenate([q_eq[None], plant.random_q(rng, samples)])
    ranks = np.empty(len(q), dtype=int)
    with tqdm(
        total=len(q), desc="sampling M⁻¹B", unit="q", file=sys.stderr, disable=not progress or samples < PROGRESS_FROM
    ) as bar:
        for start in range(0, len(q), CHUNK):
            qc = q[start : start + CHUNK]
            t = plant.terms(qc, np.zeros((len(qc), plant.nv)))
            check_mass_matrix(plant, qc, t.M)
            f2 = np.linalg.solve(t.M, t.B)
            if not np.all(np.isfinite(f2)):
                row = int(np.flatnonzero(~np.isfinite(f2).reshape(len(qc), -1).all(axis=1))[0])
                raise UnderactError(f"{plant.name}: f2 = M⁻¹B is not finite at q = {qc[row].tolist()}")
            # M is invertible (checked above), so rank f2 = rank B; B's is the one rounding cannot spoil when M is
            # ill-conditioned (a 1e-12 kg link), and its tolerance is classify's (1e-9 · max(1, largest)).
            ranks[start : start + len(qc)] = matrix_ranks(t.B)
            if start == 0:
                M_eq, B_eq = t.M[0], t.B[0]
            bar.update(len(qc))
    rank_max = int(ranks.max())
    report = ActuationReport(
        name=plant.name,
        backend=plant.backend,
        nq=plant.nq,
        nv=plant.nv,
        nu=plant.nu,
        rank=int(ranks.min()),
        rank_max=rank_max,
        samples=len(q),
        unactuated_directions=unactuated_basis(B_eq),
        velocity_names=plant.velocity_names,
        equilibrium=q_eq,
        rank_drops=q[ranks < rank_max].tolist(),
        M_eq=M_eq,
        B_eq=B_eq,
    )
    if plant.nq == plant.nv:
        report.A_lin, report.B_lin = linearize(plant, q_eq)
        report.controllability_rank = controllability_rank(report.A_lin, report.B_lin)
    return report
