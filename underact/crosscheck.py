"""Cross-check one model between Drake and MuJoCo: all four terms at random states, worst differences named.

This is how modelling mistakes surface (a transmission MuJoCo's URDF importer dropped, a mis-converted inertia, a
flipped joint axis): the report says which term disagrees, by how much, and at which state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from underact.plants.base import Plant

TERMS = ("M", "Cv", "tau_g", "B")


@dataclass
class TermDiff:
    term: str
    max_abs: float
    max_rel: float
    worst_q: list[float]
    worst_v: list[float]
    ok: bool


def crosscheck(
    a: Plant, b: Plant, states: int = 200, seed: int = 0, atol: float = 1e-8, rtol: float = 1e-6
) -> list[TermDiff]:
    """Compares a's and b's terms at `states` random (q, v); a term agrees if |Δ| ≤ atol + rtol·|a| everywhere."""
    if (a.nq, a.nv, a.nu) != (b.nq, b.nv, b.nu):
        return [TermDiff("dimensions", np.inf, np.inf, [], [], False)]
    rng = np.random.default_rng(seed)
    q = a.random_q(rng, states)
    v = rng.uniform(-2.0, 2.0, size=(states, a.nv))
    ta, tb = a.terms(q, v), b.terms(q, v)
    out = []
    for name in TERMS:
        xa, xb = getattr(ta, name), getattr(tb, name)
        diff = np.abs(xa - xb).reshape(states, -1)
        scale = np.abs(xa).reshape(states, -1)
        per_state = diff.max(axis=1, initial=0.0)
        worst = int(per_state.argmax())
        rel = float((diff / np.maximum(scale, 1e-12)).max(initial=0.0))
        ok = bool(np.all(diff <= atol + rtol * scale))
        out.append(TermDiff(name, float(per_state[worst]), rel, q[worst].tolist(), v[worst].tolist(), ok))
    return out
