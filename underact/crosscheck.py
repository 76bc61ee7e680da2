"""Cross-check one model between engines (Drake, MuJoCo, Pinocchio): all four terms (and C on request) at random
states, worst differences named; `crosscheck_engines` compares every pair of several engines.

This is how modelling mistakes surface (a transmission MuJoCo's URDF importer dropped, a mis-converted inertia, a
flipped joint axis): the report says which term disagrees, by how much, and at which state. Both plants speak the
one floating-base convention (`underact.plants.base`), so a floating robot is compared at the same physical state:
random configurations come with unit quaternions. Coordinates are matched by name when the engines order the joints
differently, and by meaning (the joint, a translation or a rotation, the axis) where they name a multi-DoF joint's
coordinates differently: Drake calls a planar joint's `slide_x, slide_y, slide_qz` (velocities `slide_vx, slide_vy,
slide_wz`) what MuJoCo's URDF import calls `slide_TX, slide_TY, slide_RZ`. `dropped_actuators` compares each
engine's actuators with the description's (`underact.description.actuators`), so an actuator both engines dropped
is still named.
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


#: Suffixes of a multi-DoF joint's coordinates, by meaning: (kind, axis). Drake names a planar joint's positions
#: x, y, qz and velocities vx, vy, wz (a ball-rpy joint's qx…qz / wx…wz); MuJoCo's URDF import makes three joints
#: TX, TY, RZ. qw…qz of a free body or a ball are quaternion entries, named alike on every backend (matched by name).
_MEANING = {
    **{s: ("translation", s[-1]) for s in ("x", "y", "z", "vx", "vy", "vz", "tx", "ty", "tz")},
    **{s: ("rotation", s[-1]) for s in ("qx", "qy", "qz", "wx", "wy", "wz", "rx", "ry", "rz")},
}


def _meaning(name: str) -> tuple[str, str, str] | None:
    """(joint, kind, axis) of a coordinate named `<joint>_<suffix>` with a suffix in `_MEANING`, else None."""
    joint, _, suffix = name.rpartition("_")
    found = _MEANING.get(suffix.lower()) if joint else None
    return (joint, *found) if found else None


def _order(a_names, b_names, what: str) -> np.ndarray:
    """Index into b's coordinates for each of a's: matched by name, then the rest by meaning (`_meaning`).

    Raises `UnderactError` naming the coordinates that match neither way."""
    a_names, b_names = list(a_names), list(b_names)
    if a_names == b_names or not a_names or not b_names:
        return np.arange(len(a_names))
    if len(set(a_names)) != len(a_names) or len(set(b_names)) != len(b_names) or len(a_names) != len(b_names):
        raise UnderactError(f"the engines' {what} cannot be matched: a name repeats, or their numbers differ")
    where = {name: i for i, name in enumerate(b_names)}
    index = {i: where[name] for i, name in enumerate(a_names) if name in where}
    taken = set(index.values())
    keys_a = {i: _meaning(name) for i, name in enumerate(a_names) if i not in index}
    keys_b = {j: _meaning(name) for j, name in enumerate(b_names) if j not in taken}
    by_key = {key: j for j, key in keys_b.items()}
    if None not in by_key and len(by_key) == len(keys_b) == len(set(keys_a.values())):  # each meaning once a side
        index.update({i: by_key[key] for i, key in keys_a.items() if key in by_key})
    if len(index) < len(a_names):
        only_a = [a_names[i] for i in range(len(a_names)) if i not in index][:3]
        only_b = sorted(set(b_names) - {b_names[j] for j in index.values()})[:3]
        raise UnderactError(
            f"the engines name their {what} differently, and not by a joint and axis either (only in the first: "
            f"{only_a}; only in the second: {only_b})"
        )
    return np.array([index[i] for i in range(len(a_names))])


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


def crosscheck_engines(
    plants: dict[str, Plant], actuators: list | None = None, **options
) -> list[tuple[str, str, list[TermDiff]]]:
    """`crosscheck` on every pair of the engines' plants of one model, in the order given: (a, b, diffs) each.

    With the description's `actuators` (`description_actuators`), each pair also gets an "nu" row that fails,
    naming them, when either engine dropped one (`dropped_actuators`); its differences count the dropped ones."""
    names = list(plants)
    dropped = {name: dropped_actuators(plants[name], actuators) for name in names} if actuators is not None else {}
    out = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            diffs = crosscheck(plants[a], plants[b], **options)
            if actuators is not None:
                lost = {name: dropped[name] for name in (a, b) if dropped[name]}
                note = "; ".join(
                    f"{name} dropped {_listed(gone)} of the description's {len(actuators)}"
                    for name, gone in lost.items()
                )
                count = float(max((len(gone) for gone in lost.values()), default=0))
                note = note or f"both have the description's {len(actuators)} actuator(s)"
                diffs.append(TermDiff("nu", count, count, [], [], not lost, note))
            out.append((a, b, diffs))
    return out


def description_actuators(model: str, base: str = "auto", actuation: str = "auto") -> list | None:
    """The actuators of a description file under the one actuation model (`underact.description.actuators`),
    as `underact.load` reads them; None for a built-in name."""
    from underact.description import DescriptionError, parse_description
    from underact.plants import BUILTINS

    if str(model) in BUILTINS:
        return None
    try:
        desc = parse_description(model, base="fixed" if base == "fixed" else "auto", actuation=actuation)
    except DescriptionError as exc:
        raise UnderactError(str(exc)) from None
    return list(desc.actuators)


def dropped_actuators(plant: Plant, actuators: list, states: int = 4, seed: int = 0) -> list[str]:
    """The description's actuators that `plant` dropped: absent from its actuators (by name; by position where
    the engine renamed them all), or present with a zero column of B at q_rest and `states` random configurations
    while the description gives them authority (a zero-gain actuator's column is zero by design)."""
    wanted = [a.name for a in actuators]
    have = list(plant.actuator_names)
    if set(have) & set(wanted) or not have:
        missing = [name for name in wanted if name not in have]
    else:  # the engine renamed them all: the count tells, and the names are the description's, by position
        missing = wanted[len(have) :]
    live = {a.name for a in actuators if any(v != 0.0 for v in a.column.values())}
    if plant.nu and live & set(have):
        q = np.concatenate([plant.q_rest[None], plant.random_q(np.random.default_rng(seed), states)])
        B = plant.terms(q, np.zeros((len(q), plant.nv))).B
        silent = ~np.any(B != 0.0, axis=(0, 1))
        missing += [name for name, zero in zip(have, silent, strict=True) if zero and name in live]
    return missing


def _listed(names: list[str]) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:4])
    return f"{len(names)} actuator(s) ({shown}{', …' if len(names) > 4 else ''})"
