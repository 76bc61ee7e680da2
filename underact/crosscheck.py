"""Cross-check one model between engines (Drake, MuJoCo, Pinocchio): all four terms (and C on request) at random
states, worst differences named; `crosscheck_engines` compares every pair of several engines.

This is how modelling mistakes surface (a transmission MuJoCo's URDF importer dropped, a mis-converted inertia, a
flipped joint axis): the report says which term disagrees, by how much, and at which state. Both plants speak the
one floating-base convention (`underact.plants.base`), so a floating robot is compared at the same physical state:
random configurations come with unit quaternions, and coordinates are matched by name when the engines order the
joints differently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from underact.errors import UnderactError
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
    note: str = ""


def _order(a_names, b_names, what: str) -> np.ndarray:
    """Index into b's coordinates for each of a's, matched by name (identity when both lists are equal)."""
    a_names, b_names = list(a_names), list(b_names)
    if a_names == b_names or not a_names or not b_names:
        return np.arange(len(a_names))
    if sorted(a_names) != sorted(b_names) or len(set(a_names)) != len(a_names):
        only_a = sorted(set(a_names) - set(b_names))[:3]
        only_b = sorted(set(b_names) - set(b_names).intersection(a_names))[:3]
        raise UnderactError(
            f"the engines name their {what} differently (only in the first: {only_a}; only in the second: {only_b})"
        )
    where = {name: i for i, name in enumerate(b_names)}
    return np.array([where[name] for name in a_names])


def crosscheck(
    a: Plant,
    b: Plant,
    states: int = 200,
    seed: int = 0,
    atol: float = 1e-8,
    rtol: float = 1e-6,
    with_C: bool = False,
) -> list[TermDiff]:
    """Compares a's and b's terms at `states` random (q, v); a term agrees if |Δ| ≤ atol + rtol·|a| everywhere.

    Configurations and velocities are drawn in a's coordinates (unit quaternions for free bodies) and handed to b
    reordered by coordinate name. Different coordinates (nq, nv) cannot be compared: one `dimensions` row.
    `with_C` compares the Coriolis matrices too (a fifth row, "C")."""
    if (a.nq, a.nv) != (b.nq, b.nv):
        note = f"nq, nv = {a.nq}, {a.nv} vs {b.nq}, {b.nv}"
        return [TermDiff("dimensions", np.inf, np.inf, [], [], False, note)]
    pq = _order(a.position_names or a.velocity_names, b.position_names or b.velocity_names, "positions")
    pv = _order(a.velocity_names, b.velocity_names, "velocities")
    rng = np.random.default_rng(seed)
    q = a.random_q(rng, states)
    v = rng.uniform(-2.0, 2.0, size=(states, a.nv))
    qb, vb = np.empty_like(q), np.empty_like(v)
    qb[:, pq], vb[:, pv] = q, v
    ta, tb = a.terms(q, v), b.terms(qb, vb)
    back = {"M": tb.M[:, pv][:, :, pv], "Cv": tb.Cv[:, pv], "tau_g": tb.tau_g[:, pv], "B": tb.B[:, pv]}
    if with_C:
        back["C"] = tb.C[:, pv][:, :, pv]
    out = []
    for name in TERMS + (("C",) if with_C else ()):
        xa, xb = getattr(ta, name), back[name]
        if xa.shape != xb.shape:
            note = f"{a.nu} actuators ({', '.join(a.actuator_names[:4])}) vs {b.nu} ({', '.join(b.actuator_names[:4])})"
            out.append(TermDiff(name, np.inf, np.inf, [], [], False, note))
            continue
        diff = np.abs(xa - xb).reshape(states, -1)
        scale = np.abs(xa).reshape(states, -1)
        per_state = diff.max(axis=1, initial=0.0)
        worst = int(per_state.argmax())
        rel = float((diff / np.maximum(scale, 1e-12)).max(initial=0.0))
        ok = bool(np.all(diff <= atol + rtol * scale))
        out.append(TermDiff(name, float(per_state[worst]), rel, q[worst].tolist(), v[worst].tolist(), ok))
    return out


def crosscheck_engines(plants: dict[str, Plant], **options) -> list[tuple[str, str, list[TermDiff]]]:
    """`crosscheck` on every pair of the engines' plants of one model, in the order given: (a, b, diffs) each."""
    names = list(plants)
    return [
        (a, b, crosscheck(plants[a], plants[b], **options)) for i, a in enumerate(names) for b in names[i + 1 :]
    ]
