"""Cross-check one model between engines (Drake, MuJoCo, Pinocchio): all four terms (and C on request) at random
states, worst differences named; `crosscheck_engines` compares every pair of several engines.

This is how modelling mistakes surface (a transmission MuJoCo's URDF importer dropped, a mis-converted inertia, a
flipped joint axis): the report says which term disagrees, by how much, and at which state. Both plants speak the
one floating-base convention (`underact.plants.base`), so a floating robot is compared at the same physical state:
random configurations come with unit quaternions. Coordinates are matched by name when the engines order the joints
differently, and by meaning (the joint, a translation or a rotation, the axis) where they name a multi-DoF joint's
coordinates differently: Drake calls a planar joint's `slide_x, slide_y, slide_qz` (velocities `slide_vx, slide_vy,
slide_wz`) what MuJoCo's URDF import calls `slide_TX, slide_TY, slide_RZ`. A ball joint, a quaternion in MuJoCo
and roll-pitch-yaw in Drake, is compared at the same rotation (`crosscheck`). `dropped_actuators` compares each
engine's actuators with the description's (`underact.description.actuators`), so an actuator both engines dropped
is still named.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from underact.errors import UnderactError
from underact.plants.base import Plant, quat_to_rot

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

    Configurations and velocities are drawn in a's coordinates (unit quaternions for free bodies and balls) and
    handed to b matched by name or meaning (`_order`). A ball joint that is a quaternion in one engine (MuJoCo: q
    = (qw, qx, qy, qz), v = ω in the child's frame) and roll-pitch-yaw in the other (Drake's `BallRpyJoint`: q =
    (roll, pitch, yaw), v = ω in the parent's frame) is compared at the same rotation R: b's velocities are
    v_b = T v_a with T holding R or Rᵀ on the ball's block, and b's terms are pulled back as Tᵀ M T, Tᵀ Cv, Tᵀ τg,
    Tᵀ B (exact, since Ṫ v = ω × ω = 0). Coordinates that still differ: one `dimensions` row.
    `with_C` compares the Coriolis matrices too (a fifth row, "C"; not across a ball's two parametrizations)."""
    balls = _ball_joints(a, b)
    if a.nv != b.nv or a.nq - b.nq != sum(1 if a_quat else -1 for a_quat in balls.values()):
        note = f"nq, nv = {a.nq}, {a.nv} vs {b.nq}, {b.nv}"
        return [TermDiff("dimensions", np.inf, np.inf, [], [], False, note)]
    if balls and with_C:
        raise UnderactError(
            f"C cannot be compared across ball joint '{next(iter(balls))}', a quaternion in one engine and "
            "roll-pitch-yaw in the other (their C differ by the map's derivative); compare without --C"
        )
    rng = np.random.default_rng(seed)
    q = a.random_q(rng, states)
    v = rng.uniform(-2.0, 2.0, size=(states, a.nv))
    qb, blocks = _positions_for_b(a, b, q, balls)
    pv = _order(a.velocity_names, b.velocity_names, "velocities")
    vb = np.empty_like(v)
    vb[:, pv] = v
    for blk, S in blocks:  # v_b = S v_a on each ball's velocities (a's indices; pv maps them to b's)
        vb[:, pv[blk]] = np.einsum("nij,nj->ni", S, v[:, blk])
    ta, tb = a.terms(q, v), b.terms(qb, vb)
    back = {"M": tb.M[:, pv][:, :, pv], "Cv": tb.Cv[:, pv], "tau_g": tb.tau_g[:, pv], "B": tb.B[:, pv]}
    for blk, S in blocks:  # pulled back: Tᵀ x, Tᵀ B, Tᵀ M T
        St = np.swapaxes(S, 1, 2)
        for key in ("Cv", "tau_g"):
            back[key][:, blk] = np.einsum("nij,nj->ni", St, back[key][:, blk])
        back["B"][:, blk] = St @ back["B"][:, blk]
        back["M"][:, blk] = St @ back["M"][:, blk]
        back["M"][:, :, blk] = back["M"][:, :, blk] @ S
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


_QUAT, _RPY, _OMEGA = ("_qw", "_qx", "_qy", "_qz"), ("_qx", "_qy", "_qz"), ("_wx", "_wy", "_wz")


def _ball_joints(a: Plant, b: Plant) -> dict[str, bool]:
    """Joints that are a quaternion ball in one plant and roll-pitch-yaw in the other: {joint: a has the quaternion}."""
    out = {}
    for first, second, a_quat in ((a, b, True), (b, a, False)):
        mine, theirs = set(first.position_names), set(second.position_names)
        both_omega = set(first.velocity_names) & set(second.velocity_names)
        for name in first.position_names:
            joint = name[: -len("_qw")]
            if (
                name.endswith("_qw")
                and name not in theirs
                and {joint + s for s in _QUAT} <= mine
                and {joint + s for s in _RPY} <= theirs
                and {joint + s for s in _OMEGA} <= both_omega
            ):
                out[joint] = a_quat
    return out


def _positions_for_b(
    a: Plant, b: Plant, q: np.ndarray, balls: dict[str, bool]
) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """b's configurations for a's q (states, a.nq), and for each ball (a's velocity indices of ω, S (states, 3, 3))
    with ω_b = S ω_a: R where a has the quaternion (ω in the child's frame, b's in the parent's), else Rᵀ."""
    a_names = a.position_names or a.velocity_names
    b_names = b.position_names or b.velocity_names
    ball_a = {j + s for j, a_quat in balls.items() for s in (_QUAT if a_quat else _RPY)}
    ball_b = {j + s for j, a_quat in balls.items() for s in (_RPY if a_quat else _QUAT)}
    ia = [i for i, n in enumerate(a_names) if n not in ball_a]
    ib = np.array([i for i, n in enumerate(b_names) if n not in ball_b], dtype=int)
    pq = _order([a_names[i] for i in ia], [b_names[i] for i in ib], "positions")
    qb = np.empty((len(q), b.nq))
    qb[:, ib[pq]] = q[:, ia]
    blocks = []
    for joint, a_quat in balls.items():
        ja = [a_names.index(joint + s) for s in (_QUAT if a_quat else _RPY)]
        jb = [b_names.index(joint + s) for s in (_RPY if a_quat else _QUAT)]
        if a_quat:
            R = quat_to_rot(q[:, ja])
            qb[:, jb] = _rpy(R)
        else:
            qb[:, jb] = _quat_of_rpy(q[:, ja])
            R = quat_to_rot(qb[:, jb])
        omega = np.array([a.velocity_names.index(joint + s) for s in _OMEGA])
        blocks.append((omega, R if a_quat else np.swapaxes(R, 1, 2)))
    return qb, blocks


def _rpy(R: np.ndarray) -> np.ndarray:
    """Roll, pitch, yaw (…, 3) of R = Rz(yaw) Ry(pitch) Rx(roll), Drake's `RollPitchYaw`."""
    roll = np.arctan2(R[..., 2, 1], R[..., 2, 2])
    pitch = np.arctan2(-R[..., 2, 0], np.hypot(R[..., 2, 1], R[..., 2, 2]))
    yaw = np.arctan2(R[..., 1, 0], R[..., 0, 0])
    return np.stack([roll, pitch, yaw], axis=-1)


def _quat_of_rpy(rpy: np.ndarray) -> np.ndarray:
    """The unit quaternion (w, x, y, z) of Rz(yaw) Ry(pitch) Rx(roll)."""
    cr, cp, cy = (np.cos(rpy[..., k] / 2) for k in range(3))
    sr, sp, sy = (np.sin(rpy[..., k] / 2) for k in range(3))
    return np.stack(
        [
            cr * cp * cy + sr * sp * sy,
            sr * cp * cy - cr * sp * sy,
            cr * sp * cy + sr * cp * sy,
            cr * cp * sy - sr * sp * cy,
        ],
        axis=-1,
    )


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
    from underact.description import parse_description
    from underact.plants import BUILTINS

    if str(model) in BUILTINS:
        return None
    desc = parse_description(model, base="fixed" if base == "fixed" else "auto", actuation=actuation)
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
