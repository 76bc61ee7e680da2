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
    ctrl = PseudoInverseController(plant, qdd)
    u = ctrl.control(q, v, qdd)
    f1, f2 = plant.terms(q, v).f1_f2(plant.damping(v))  # this plant's own terms (B = I), not the stock vdot's
    np.testing.assert_allclose(f1 + np.einsum("nij,nj->ni", f2, u), qdd, atol=1e-9)
    np.testing.assert_array_equal(ctrl(0.0, q, v), u)  # called (t, q, v) like every controller
    np.testing.assert_allclose(ctrl.residual(0.0, q, v), 0.0, atol=1e-9)


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
        ctrl = PseudoInverseController(plant, qdd)
        u, residual = ctrl.solve(q, v, qdd)
        t = plant.terms(q, v)
        f1, f2 = t.f1_f2(plant.damping(v))
        r = np.einsum("nij,nj->ni", f2, u) + f1 - qdd
        np.testing.assert_allclose(r, residual, atol=1e-10)
        np.testing.assert_array_equal(ctrl.residual(0.0, q, v), residual)
        # f2ᵀ r = 0: the residual is orthogonal to everything the input can do.
        np.testing.assert_allclose(np.einsum("nij,ni->nj", f2, r), 0.0, atol=1e-9)
        assert np.abs(residual).max() > 1e-3  # it genuinely cannot track arbitrary accelerations
        # Achieved acceleration under u equals f1 + f2 u
        np.testing.assert_allclose(plant.vdot(q, v, u), qdd + r, atol=1e-9)


def test_singular_and_overflowing_terms_refused(tmp_path):
    """A massless link makes M singular (named, with q); a huge velocity overflows Cv (DivergenceError)."""
    import pytest

    from underact.description.generate import urdf_chain
    from underact.errors import DivergenceError, SingularMassMatrixError

    path = tmp_path / "massless.urdf"
    path.write_text(urdf_chain(1, [1], joint_type="prismatic", mass=0.0))
    ctrl = PseudoInverseController(load(path, "drake"))
    with pytest.raises(
        SingularMassMatrixError, match=r"massless \(drake\): the mass matrix M\(q\) is singular at q = \[0\.25\]"
    ):
        ctrl.control([0.25], [0.0], [1.0])
    ctrl = PseudoInverseController(load("acrobot", "drake"))
    with pytest.raises(DivergenceError, match=r"not finite at q = \[0\.0, 0\.0\], v = \[1e\+300, 1e\+300\]"):
        ctrl.control([[0.1, 0.2], [0.0, 0.0]], [[0.0, 0.0], [1e300, 1e300]], [0.0, 0.0])


def test_pinv_is_a_controller_for_simulate():
    """Called (t, q, v) like every controller: a PD law on the pendulum's acceleration, simulated on every
    backend, settles where the law says; a bad qdd_desired or a missing one is one line."""
    import pytest

    from underact.errors import UnderactError
    from underact.simulate import simulate

    for backend in ("analytic", "mujoco", "drake"):
        plant = load("pendulum", backend)
        ctrl = PseudoInverseController(plant, lambda t, q, v: -9.0 * (q - 0.5) - 6.0 * v)
        traj = simulate(plant, ctrl, [0.0], [0.0], 4.0)
        assert abs(traj.q[-1, 0] - 0.5) < 1e-3, backend
    acrobot = load("acrobot", "analytic")
    with pytest.raises(UnderactError, match=r"qdd_desired must have 2 accelerations \(nv of acrobot\)"):
        PseudoInverseController(acrobot, [1.0])
    with pytest.raises(UnderactError, match="has no qdd_desired"):
        PseudoInverseController(acrobot)(0.0, [0.0, 0.0], [0.0, 0.0])
