"""Linearisation of ẋ = f(x, u), x = (q, v), about an equilibrium, and the controllability test.

f(x, u) = (q̇, M⁻¹(τg − Cv + damping + B u)). Jacobians are central differences of the plant's own forward
dynamics, evaluated in one batched `terms` call, so every backend is linearised the same way. Everything that
solves with M(q) here, in the analyzer and in the pseudo-inverse controller first asks `check_mass_matrix`, so a
massless body is a `SingularMassMatrixError` naming the model and the state, never a numpy traceback.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

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
    # M at q0 is checked here, so a singular M is named at q0 itself; `vdot` refuses a singular M at the perturbed
    # states (checking all 2·(2n + m) of them here too cost an SVD each: most of the time on a 100-link chain).
    check_mass_matrix(plant, q0[None], plant.terms(q0[None], np.zeros((1, n))).M)
    xdot = np.concatenate([v, plant.vdot(q, v, u)], axis=1)
    jac = ((xdot[:k] - xdot[k:]) / step[:, None]).T  # (2n, 2n + m)
    if not np.all(np.isfinite(jac)):
        raise UnderactError(f"{plant.name}: the linearisation at q = {q0.tolist()} is not finite (the terms overflow)")
    return jac[:, : 2 * n], jac[:, 2 * n :]


def controllability_rank(A: np.ndarray, B: np.ndarray, rtol: float = 1e-8) -> int:
    """Dimension of the controllable subspace of δẋ = A δx + B δu (n = 2·nv means controllable).

    An orthogonal staircase (controllability Hessenberg) reduction, Van Dooren's: the column space of B is
    split off by an SVD, A is rotated into that basis, and the block mapping it into the rest is the next "B";
    the ranks found add up to the controllable dimension. A diagonal balancing of [A B; 0 0] first (LAPACK's
    gebal, scipy's `matrix_balance`) evens out the scales of q, v and u, and a singular value counts where it
    exceeds rtol · max(‖A‖₂, ‖B‖₂) of the balanced system, the same threshold at every step: the answer is
    exact for the nearby system within that distance. Unlike the Krylov matrix [B, AB, …, Aⁿ⁻¹B], whose
    blocks grow like ‖A‖ᵏ, no power of A is formed; memory is O(n²) and time O(n³) per step.
    Raises `UnderactError` (one line) for shapes that do not match or entries that are not finite.
    """
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    if B.ndim == 1:
        B = B[:, None]
    if A.ndim != 2 or A.shape[0] != A.shape[1] or B.ndim != 2 or B.shape[0] != A.shape[0]:
        raise UnderactError(f"controllability needs A (n, n) and B (n, m); got A {A.shape} and B {B.shape}")
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(B))):
        raise UnderactError("controllability needs finite A and B; the linearisation has NaN or infinite entries")
    n, m = B.shape
    if n == 0 or m == 0 or not np.any(B):
        return 0
    try:
        A, B = _balance(A, B)
        tol = rtol * max(np.linalg.norm(A, 2), np.linalg.norm(B, 2))
        found = 0
        while found < n:
            U, s, _ = np.linalg.svd(B)  # B: (n − found, ·); U orthogonal, s descending
            r = int(np.count_nonzero(s > tol))
            if r == 0:
                break
            found += r
            if found == n:
                break
            A = U.T @ A @ U
            A, B = A[r:, r:], A[r:, :r]  # the rest of the state, and how the reached part drives it
    except np.linalg.LinAlgError as exc:
        raise UnderactError(
            f"controllability: the staircase reduction failed ({exc}); the linearisation is too badly scaled to judge"
        ) from None
    return found


def _balance(A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T⁻¹ A T, T⁻¹ B S) for the diagonal powers of two T (states), S (inputs) that balance [A B; 0 0]; exact
    in floating point, and the controllable dimension does not change under a similarity and an input scaling.

    The scaling is computed with entries below n·ε of the largest taken as zero: a rounding-level entry in an
    otherwise empty row or column (a cart's position, say) would make LAPACK's balancing blow that coordinate
    up by 2⁵⁰. Where balancing does not shrink the system's norm, (A, B) is returned as it was.
    """
    n, m = B.shape
    system = np.zeros((n + m, n + m))
    system[:n, :n], system[:n, n:] = A, B
    system[np.abs(system) <= (n + m) * np.finfo(np.float64).eps * np.abs(system).max()] = 0.0
    _, (scale, _) = scipy.linalg.matrix_balance(system, permute=False, separate=True)
    t, s = scale[:n], scale[n:]
    At, Bt = A * (t[None, :] / t[:, None]), B * (s[None, :] / t[:, None])
    if max(np.linalg.norm(At, 1), np.linalg.norm(Bt, 1)) >= max(np.linalg.norm(A, 1), np.linalg.norm(B, 1)):
        return A, B
    return At, Bt
