"""Linearisation of ẋ = f(x, u), x = (q, v), about an equilibrium, and the controllability test.

f(x, u) = (q̇, M⁻¹(τg − Cv + damping + B u)). Jacobians are central differences of the plant's own forward
dynamics, evaluated in one batched `terms` call, so every backend is linearised the same way. Everything that
solves with M(q) here, in the analyzer and in the pseudo-inverse controller first asks `check_mass_matrix`, so a
massless body is a `SingularMassMatrixError` naming the model and the state, never a numpy traceback.
"""

from __future__ import annotations

import numpy as np

from underact.errors import SingularMassMatrixError, UnderactError
from underact.plants.base import Plant

#: Equilibria are refused beyond this magnitude: finite differences and angles lose their meaning there.
MAX_COORDINATE = 1e4


def check_mass_matrix(plant: Plant, q, M: np.ndarray) -> None:
    """Raises `SingularMassMatrixError` naming the plant and the first state q (…, nq) where M (…, nv, nv) is
    non-finite or singular (smallest singular value ≤ nv · ε · the largest, numpy's `matrix_rank` rule)."""
    nv = plant.nv
    Mb = np.asarray(M, dtype=np.float64).reshape(-1, nv, nv)
    qb = np.asarray(q, dtype=np.float64).reshape(len(Mb), -1)
    finite = np.isfinite(Mb).all(axis=(1, 2))
    singular = np.zeros(len(Mb), dtype=bool)
    if nv:
        s = np.linalg.svd(np.where(finite[:, None, None], Mb, 1.0), compute_uv=False)
        singular = finite & (s[:, -1] <= nv * np.finfo(np.float64).eps * s[:, 0])
    bad = np.flatnonzero(~finite | singular)
    if bad.size:
        i = int(bad[0])
        what = "singular" if finite[i] else "not finite"
        raise SingularMassMatrixError(
            f"{plant.name} ({plant.backend}): the mass matrix M(q) is {what} at q = {qb[i].tolist()}; "
            "every moving body needs positive mass and inertia (a massless link or a degenerate inertia?)"
        )


def check_equilibrium(plant: Plant, q0) -> np.ndarray:
    """q0 as float64 (nq,) if it has nq finite entries within ±`MAX_COORDINATE`; `UnderactError` otherwise."""
    q0 = np.asarray(q0, dtype=np.float64)
    if q0.shape != (plant.nq,) or not np.all(np.abs(q0) <= MAX_COORDINATE):
        raise UnderactError(
            f"{plant.name}: an equilibrium needs {plant.nq} finite entries within ±{MAX_COORDINATE:g}; "
            f"got {q0.tolist()}"
        )
    return q0


def equilibrium_input(plant: Plant, q0: np.ndarray) -> np.ndarray:
    """The input that best holds q0 at rest: least-squares solution of B u = −τg(q0)."""
    t = plant.terms(q0, np.zeros(plant.nv))
    u0, *_ = np.linalg.lstsq(t.B, -t.tau_g, rcond=None)
    return u0


def linearize(plant: Plant, q0, u0=None, eps: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """(A, B) of δẋ = A δx + B δu about (q0, v = 0, u0); u0 defaults to `equilibrium_input`."""
    if plant.nq != plant.nv:
        raise ValueError(
            f"{plant.name}: linearising needs nq == nv; this plant has nq={plant.nq}, nv={plant.nv} (quaternions)"
        )
    n, m = plant.nq, plant.nu
    q0 = check_equilibrium(plant, q0)
    u0 = equilibrium_input(plant, q0) if u0 is None else np.asarray(u0, dtype=np.float64)
    z0 = np.concatenate([q0, np.zeros(n), u0])
    # Perturbations: ±eps along each state and input coordinate, all in one batch. The step divided by is the one
    # float64 represents, (z0 + eps) − (z0 − eps), not 2·eps.
    k = 2 * n + m
    z = np.concatenate([z0 + np.eye(k) * eps, z0 - np.eye(k) * eps])
    step = np.diagonal(z[:k] - z[k:])
    q, v, u = z[:, :n], z[:, n : 2 * n], z[:, 2 * n :]
    states = np.concatenate([q0[None], q])  # q0 first, so a singular M at q0 is named at q0 itself
    check_mass_matrix(plant, states, plant.terms(states, np.zeros_like(states)).M)
    xdot = np.concatenate([v, plant.vdot(q, v, u)], axis=1)
    jac = ((xdot[:k] - xdot[k:]) / step[:, None]).T  # (2n, 2n + m)
    if not np.all(np.isfinite(jac)):
        raise UnderactError(f"{plant.name}: the linearisation at q = {q0.tolist()} is not finite (the terms overflow)")
    return jac[:, : 2 * n], jac[:, 2 * n :]


def controllability_rank(A: np.ndarray, B: np.ndarray, rtol: float = 1e-7) -> int:
    """Rank of [B, AB, …, Aⁿ⁻¹B], counting singular values above rtol · the largest."""
    n = A.shape[0]
    blocks = [B]
    for _ in range(n - 1):
        blocks.append(A @ blocks[-1])
    s = np.linalg.svd(np.hstack(blocks), compute_uv=False)
    return int(np.sum(s > rtol * max(s.max(initial=0.0), 1e-300))) if s.size else 0
