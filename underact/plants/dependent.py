"""Dependent joints removed: a plant on the independent coordinates of one whose joints are coupled.

A URDF mimic joint and an MJCF joint equality make a joint follow another, q_d = c·q_m + o (or hold it at o
when locked). Both engines keep such a joint as a coordinate of its own (Drake's continuous plant ignores
`<mimic>`; MuJoCo holds it by a constraint that M does not show), so M⁻¹B over all coordinates would call it
an unactuated direction. With q = T q_r + o and v = T v_r (T: identity on the independent coordinates, c on
each dependent row, zero on a locked one), virtual work gives the terms on the independent coordinates:

    M_r = Tᵀ M T,   Cv_r = Tᵀ Cv,   τg_r = Tᵀ τg,   B_r = Tᵀ B,   b_r = (T ⊙ T)ᵀ b

(T is constant, so there is no Ṫ v term; each row of T has one entry, so the damping stays diagonal). The
couplings come from the description (`Description.dependent`), so `analyze`, `classify` and `view` count the
same coordinates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from underact.plants.base import Plant
from underact.terms import ManipulatorTerms


class ReducedPlant(Plant):
    """`plant` on its independent coordinates; `dependent` maps a joint to (joint it follows or None, c, o)."""

    def __init__(self, plant: Plant, dependent: dict[str, tuple[str | None, float, float]]):
        self.full, self.name, self.backend = plant, plant.name, plant.backend
        velocity_names = list(plant.velocity_names)
        position_names = list(plant.position_names) or velocity_names
        v_index = {n: i for i, n in enumerate(velocity_names)}
        q_index = {n: i for i, n in enumerate(position_names)}
        coupled = {d: rule for d, rule in dependent.items() if d in v_index and d in q_index
                   and (rule[0] is None or (rule[0] in v_index and rule[0] not in dependent))}
        self.couplings = coupled
        keep_v = [i for i, n in enumerate(velocity_names) if n not in coupled]
        keep_q = [i for i, n in enumerate(position_names) if n not in coupled]
        self.T = np.zeros((plant.nv, len(keep_v)))
        self.T[keep_v, np.arange(len(keep_v))] = 1.0
        self.Tq = np.zeros((plant.nq, len(keep_q)))
        self.Tq[keep_q, np.arange(len(keep_q))] = 1.0
        self.offset = np.zeros(plant.nq)
        column_v = {i: k for k, i in enumerate(keep_v)}
        column_q = {i: k for k, i in enumerate(keep_q)}
        for joint, (master, c, o) in coupled.items():
            self.offset[q_index[joint]] = o
            if master is not None:
                self.T[v_index[joint], column_v[v_index[master]]] = c
                self.Tq[q_index[joint], column_q[q_index[master]]] = c
        self._keep_q = keep_q
        self.nq, self.nv, self.nu = len(keep_q), len(keep_v), plant.nu
        self.velocity_names = [velocity_names[i] for i in keep_v]
        self.position_names = [position_names[i] for i in keep_q] if plant.position_names else []
        self.actuator_names = list(plant.actuator_names)
        self.u_limit = plant.u_limit
        self.b = (self.T * self.T).T @ plant.b
        self.angle_mask = np.asarray(plant.angle_mask)[keep_q]
        self.q_rest = np.asarray(plant.q_rest)[keep_q]
        self.upright = np.asarray(plant.upright)[keep_q]
        self.quaternion_starts = tuple(column_q[s] for s in plant.quaternion_starts)
        self.warnings = list(plant.warnings)
        self.parser_messages = list(getattr(plant, "parser_messages", ()))

    def lift(self, q: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Full coordinates (…, nq_full), (…, nv_full) of independent ones."""
        return q @ self.Tq.T + self.offset, v @ self.T.T

    def _terms(self, q, v):
        t = self.full.terms(*self.lift(q, v))
        T = self.T
        return ManipulatorTerms(T.T @ t.M @ T, t.Cv @ T, t.tau_g @ T, T.T @ t.B)

    def _potential(self, q):
        return self.full.potential(self.lift(q, np.zeros((len(q), self.nv)))[0])

    def qdot(self, q, v):
        q, v = np.asarray(q, dtype=np.float64), np.asarray(v, dtype=np.float64)
        return self.full.qdot(*self.lift(q, v))[..., self._keep_q]

    def position_limits(self):
        lo, hi = self.full.position_limits()
        return lo[self._keep_q], hi[self._keep_q]


def reduce_dependent(plant: Plant, model: str, base: str = "auto", actuation: str = "auto") -> Plant:
    """`plant` on its independent coordinates when `model` is a description file with dependent joints (mimic
    joints, MJCF joint equalities); the plant itself otherwise. The returned plant's `warnings` end with one
    line naming the couplings."""
    from underact.description import parse_description

    if not Path(model).is_file():
        return plant
    desc = parse_description(model, base="fixed" if base == "fixed" else "auto", actuation=actuation)
    if not desc.dependent:
        return plant
    reduced = ReducedPlant(plant, desc.dependent)
    if not reduced.couplings:
        return plant
    shown = [f"{d} = {c:g}·{m}" + (f" {o:+g}" if o else "") if m is not None else f"{d} = {o:g} (locked)"
             for d, (m, c, o) in list(reduced.couplings.items())[:3]]
    more = ", ..." if len(reduced.couplings) > 3 else ""
    reduced.warnings.append(f"{len(reduced.couplings)} dependent joint(s) ({', '.join(shown)}{more}): analyzed on "
                            f"the independent coordinates (nv {plant.nv} -> {reduced.nv}; M and B projected)")
    return reduced
