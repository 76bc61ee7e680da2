"""Energy-shaping swing-up controllers built on the plant's terms: Spong's acrobot and the cart-pole.

Both command an acceleration of the actuated coordinates and realise it exactly with collocated partial
feedback linearisation (PFL, Spong 1994; Tedrake, "Underactuated Robotics", ch. 3); the acrobot adds its
energy-pumping torque on top, the cart-pole pumps through the commanded acceleration. Splitting the manipulator
equation into passive rows p and actuated rows a,

    M_pp q̈_p + M_pa q̈_a = τ_p,    M_ap q̈_p + M_aa q̈_a = τ_a + B_a u,    τ = τg − Cv + damping,

gives q̈_p = M_pp⁻¹(τ_p − M_pa q̈_a) and u = B_a⁻¹(M_ap q̈_p + M_aa q̈_a − τ_a). Energies are ½vᵀMv plus
`plant.potential`, the target E_d is the energy at rest upright, so nothing here is specific to one engine.
"""

from __future__ import annotations

import numpy as np

from underact.control.lqr import angle_mask, saturate, wrap_angles
from underact.plants.base import Plant
from underact.terms import ManipulatorTerms


def actuated_coordinates(plant: Plant) -> tuple[np.ndarray, np.ndarray]:
    """Indices (actuated, passive) of the velocity coordinates, read from the rows of B at rest.

    Collocated PFL needs one actuator per actuated coordinate (B_a square and invertible).
    """
    B = plant.terms(plant.q_rest, np.zeros(plant.nv)).B
    actuated = np.flatnonzero(np.abs(B).sum(axis=1) > 1e-12)
    if len(actuated) != plant.nu or abs(np.linalg.det(B[actuated])) < 1e-12:
        raise ValueError(f"{plant.name}: collocated PFL needs B to act on exactly nu={plant.nu} coordinates")
    return actuated, np.setdiff1d(np.arange(plant.nv), actuated)


def collocated_pfl(
    terms: ManipulatorTerms, damping: np.ndarray, qdd_a: np.ndarray, actuated: np.ndarray, passive: np.ndarray
) -> np.ndarray:
    """u (…, nu) that makes the actuated coordinates accelerate at qdd_a (…, na), given the state's terms."""
    tau = terms.tau_g - terms.Cv + damping
    M = terms.M
    M_pp, M_pa = M[..., passive[:, None], passive], M[..., passive[:, None], actuated]
    M_ap, M_aa = M[..., actuated[:, None], passive], M[..., actuated[:, None], actuated]
    rhs_p = tau[..., passive] - np.einsum("...ij,...j->...i", M_pa, qdd_a)
    qdd_p = np.linalg.solve(M_pp, rhs_p[..., None])[..., 0]
    force = np.einsum("...ij,...j->...i", M_ap, qdd_p) + np.einsum("...ij,...j->...i", M_aa, qdd_a)
    return np.linalg.solve(terms.B[..., actuated, :], (force - tau[..., actuated])[..., None])[..., 0]


class _EnergyShaping:
    """Shared set-up: actuated/passive split, target energy E_d = E(upright, 0), gains, saturation."""

    def __init__(self, plant: Plant, ke: float, kp: float, kd: float, u_limit: float | np.ndarray | None = None):
        self.plant = plant
        self.ke, self.kp, self.kd = float(ke), float(kp), float(kd)
        self.actuated, self.passive = actuated_coordinates(plant)
        self.q_goal = np.asarray(plant.upright, dtype=np.float64)
        self.E_d = float(plant.energy(self.q_goal, np.zeros(plant.nv)))
        self.u_limit = plant.u_limit if u_limit is None else np.broadcast_to(np.asarray(u_limit, float), (plant.nu,))
        self._angles = angle_mask(plant)[self.actuated]

    def _pd(self, q, v) -> np.ndarray:
        """−kp (q_a − q_a*) − kd q̇_a on the actuated coordinates (angles wrapped)."""
        err = wrap_angles(q[..., self.actuated] - self.q_goal[self.actuated], self._angles)
        return -self.kp * err - self.kd * v[..., self.actuated]

    def _pfl(self, terms: ManipulatorTerms, v, qdd_a) -> np.ndarray:
        return collocated_pfl(terms, self.plant.damping(v), qdd_a, self.actuated, self.passive)

    def _energy(self, q, v, M) -> np.ndarray:
        """½ vᵀMv + potential(q), reusing a mass matrix already computed at q."""
        potential = self.plant.potential(q.reshape(-1, self.plant.nq)).reshape(q.shape[:-1])
        return 0.5 * np.einsum("...i,...ij,...j->...", v, M, v) + potential

    def _mass(self, q, v) -> np.ndarray:
        """M(q) for any number of leading axes."""
        nq, nv = self.plant.nq, self.plant.nv
        return self.plant.terms(q.reshape(-1, nq), v.reshape(-1, nv)).M.reshape(q.shape[:-1] + (nv, nv))


class AcrobotSwingUp(_EnergyShaping):
    """Spong's swing-up: collocated PFL of a PD law on the actuated joint, plus an energy-pumping torque.

        u = PFL(q̈_a = −kp q_a − kd q̇_a) − ke (E − E_d) Bᵀv

    E is the total energy (`plant.energy`) and E_d its value at rest upright, (m1 lc1 + m2 (l1 + lc2)) g
    above the horizontal, i.e. 2 (m1 lc1 + m2 (l1 + lc2)) g above the hanging rest. Since Ė = vᵀ(B u + damping),
    the pumping term's own contribution to Ė is −ke Ẽ |Bᵀv|², which always drives E toward E_d. The torque form is the
    one of Drake's `SpongController`; default gains are Spong's (ke = 5, kp = 50, kd = 5).
    """

    def __init__(
        self,
        plant: Plant,
        ke: float = 5.0,
        kp: float = 50.0,
        kd: float = 5.0,
        u_limit: float | np.ndarray | None = None,
    ):
        super().__init__(plant, ke, kp, kd, u_limit)

    def energy_error(self, q: np.ndarray, v: np.ndarray, M: np.ndarray | None = None) -> np.ndarray:
        """E − E_d (…); pass M(q) if already at hand."""
        q, v = np.asarray(q, dtype=np.float64), np.asarray(v, dtype=np.float64)
        M = self._mass(q, v) if M is None else M
        return self._energy(q, v, M) - self.E_d

    def __call__(self, t: float, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        q, v = np.asarray(q, dtype=np.float64), np.asarray(v, dtype=np.float64)
        terms = self.plant.terms(q, v)
        e_tilde = self.energy_error(q, v, terms.M)
        pump = -self.ke * e_tilde[..., None] * np.einsum("...ij,...i->...j", terms.B, v)
        return saturate(self._pfl(terms, v, self._pd(q, v)) + pump, self.u_limit)


class CartPoleSwingUp(_EnergyShaping):
    """Energy shaping of the passive pole, with a PD term that keeps the cart near its goal position.

    E_p is the energy with the actuated velocities set to zero (the pole's energy seen from the cart). With a
    constant M_pp, the passive rows give Ė_p = −q̇_pᵀ M_pa q̈_a, so commanding q̈_a = ke (M_ap q̇_p) Ẽ gives
    Ė_p = −ke |M_ap q̇_p|² Ẽ: the energy error only shrinks (Tedrake, ch. 3, ẍ_d ∝ θ̇ cos θ Ẽ).
    """

    def __init__(
        self, plant: Plant, ke: float = 2.0, kp: float = 4.0, kd: float = 4.0, u_limit: float | np.ndarray | None = None
    ):
        super().__init__(plant, ke, kp, kd, u_limit)

    def energy_error(self, q: np.ndarray, v: np.ndarray, M: np.ndarray | None = None) -> np.ndarray:
        """E_p − E_d (…), E_p the energy with the actuated velocities zeroed; pass M(q) if already at hand."""
        q = np.asarray(q, dtype=np.float64)
        v_p = np.array(v, dtype=np.float64)
        M = self._mass(q, v_p) if M is None else M
        v_p[..., self.actuated] = 0.0
        return self._energy(q, v_p, M) - self.E_d

    def __call__(self, t: float, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        q, v = np.asarray(q, dtype=np.float64), np.asarray(v, dtype=np.float64)
        terms = self.plant.terms(q, v)
        M_ap = terms.M[..., self.actuated[:, None], self.passive]
        coupling = np.einsum("...ij,...j->...i", M_ap, v[..., self.passive])
        qdd_a = self._pd(q, v) + self.ke * coupling * self.energy_error(q, v, terms.M)[..., None]
        return saturate(self._pfl(terms, v, qdd_a), self.u_limit)
