"""Linearisation of ẋ = f(x, u), x = (q, v), about an equilibrium, and the controllability test.

f(x, u) = (q̇, M⁻¹(τg − Cv + damping + B u)). Jacobians are central differences of the plant's own forward
dynamics, evaluated in one batched `terms` call, so every backend is linearised the same way.
"""

from __future__ import annotations

import numpy as np

from underact.plants.base import Plant


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
    q0 = np.asarray(q0, dtype=np.float64)
    u0 = equilibrium_input(plant, q0) if u0 is None else np.asarray(u0, dtype=np.float64)
    x0 = np.concatenate([q0, np.zeros(n)])
    # Perturbations: ±eps along each state and input coordinate, all in one batch.
    dz = np.concatenate([np.eye(2 * n + m), -np.eye(2 * n + m)]) * eps
    x = x0 + dz[:, : 2 * n]
    u = u0 + dz[:, 2 * n :]
    q, v = x[:, :n], x[:, n:]
    xdot = np.concatenate([v, plant.vdot(q, v, u)], axis=1)
    k = 2 * n + m
    jac = ((xdot[:k] - xdot[k:]) / (2 * eps)).T  # (2n, 2n + m)
    return jac[:, : 2 * n], jac[:, 2 * n :]


def controllability_rank(A: np.ndarray, B: np.ndarray, rtol: float = 1e-7) -> int:
    """Rank of [B, AB, …, Aⁿ⁻¹B], counting singular values above rtol · the largest."""
    n = A.shape[0]
    blocks = [B]
    for _ in range(n - 1):
        blocks.append(A @ blocks[-1])
    s = np.linalg.svd(np.hstack(blocks), compute_uv=False)
    return int(np.sum(s > rtol * max(s.max(initial=0.0), 1e-300))) if s.size else 0
