"""The pseudo-inverse controller: exact tracking when fully actuated, least squares otherwise."""

import numpy as np

from underact import load
from underact.control import PseudoInverseController
from underact.plants.analytic import AcrobotParams, AcrobotPlant


class FullyActuatedAcrobot(AcrobotPlant):
    """The acrobot with a second motor at the shoulder: B = I."""

    def _terms(self, q, v):
        t = super()._terms(q, v)
        return type(t)(t.M, t.Cv, t.tau_g, np.broadcast_to(np.eye(2), (len(q), 2, 2)).copy())


def test_exact_tracking_fully_actuated():
    plant = FullyActuatedAcrobot(AcrobotParams())
    plant.nu = 2
    rng = np.random.default_rng(0)
    q, v, qdd = rng.normal(size=(3, 10, 2))
    ctrl = PseudoInverseController(plant)
    u = ctrl.control(q, v, qdd)
    np.testing.assert_allclose(plant.vdot(q, v, u), qdd, atol=1e-9)
    np.testing.assert_allclose(ctrl.residual, 0.0, atol=1e-9)


def test_exact_tracking_fully_actuated_drake_pendulum():
    plant = load("pendulum", "drake")
    ctrl = PseudoInverseController(plant)
    u = ctrl.control([0.4], [1.0], [2.5])
    assert plant.vdot([0.4], [1.0], u)[0] == np.float64(2.5) or abs(plant.vdot([0.4], [1.0], u)[0] - 2.5) < 1e-10


def test_normal_equations_hold_for_underactuated_acrobot():
    for backend in ("analytic", "drake", "mujoco"):
        plant = load("acrobot", backend)
        rng = np.random.default_rng(1)
        q, v, qdd = rng.normal(size=(3, 8, 2))
        ctrl = PseudoInverseController(plant)
        u = ctrl.control(q, v, qdd)
        t = plant.terms(q, v)
        f1, f2 = t.f1_f2(plant.damping(v))
        r = np.einsum("nij,nj->ni", f2, u) + f1 - qdd
        np.testing.assert_allclose(r, ctrl.residual, atol=1e-10)
        # f2ᵀ r = 0: the residual is orthogonal to everything the input can do.
        np.testing.assert_allclose(np.einsum("nij,ni->nj", f2, r), 0.0, atol=1e-9)
        assert np.abs(ctrl.residual).max() > 1e-3  # it genuinely cannot track arbitrary accelerations
        # Achieved acceleration under u equals f1 + f2 u
        np.testing.assert_allclose(plant.vdot(q, v, u), qdd + r, atol=1e-9)
