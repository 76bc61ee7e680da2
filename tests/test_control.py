"""Controllers: LQR against Drake's own LQR, PFL against the engines' forward dynamics, swing-up and balance
on the closed-form model (batched over seeds), energy pumping, and one controller object on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import underact
from underact.control import (
    AcrobotSwingUp,
    CartPoleSwingUp,
    LQRController,
    MinimumJerk,
    PseudoInverseTracking,
    angle_mask,
    collocated_pfl,
    swing_up_and_balance,
    wrap_angles,
)
from underact.simulate import initial_state, near_upright
from underact.simulate.analytic import rk4_rollout

SYSTEMS = ("acrobot", "cartpole")


def _starts(plant, seeds):
    q0 = np.array([initial_state(plant, s)[0] for s in seeds])
    return q0, np.zeros_like(q0)


def _stays_upright(plant, t, Q, V, window=2.0):
    """(N,) True where the last `window` seconds of each trajectory are near upright."""
    tail = t >= t[-1] - window
    return np.array([near_upright(plant, Q[tail, i], V[tail, i]).all() for i in range(Q.shape[1])])


@pytest.mark.parametrize("system", SYSTEMS)
def test_lqr_gain_equals_drake_lqr_on_drake_autodiff_linearisation(system):
    from pydrake.systems.controllers import LinearQuadraticRegulator
    from pydrake.systems.primitives import Linearize

    ours = LQRController(underact.load(system, "analytic"))
    drake_plant = underact.load(system, "drake")
    mbp = drake_plant.plant
    ctx = mbp.CreateDefaultContext()
    mbp.SetPositions(ctx, drake_plant.upright)
    mbp.get_actuation_input_port().FixValue(ctx, np.zeros(mbp.num_actuators()))
    lin = Linearize(
        mbp,
        ctx,
        input_port_index=mbp.get_actuation_input_port().get_index(),
        output_port_index=mbp.get_state_output_port().get_index(),
    )
    K, S = LinearQuadraticRegulator(lin.A(), lin.B(), ours.Q, ours.R)
    np.testing.assert_allclose(ours.K, K, rtol=1e-4)
    np.testing.assert_allclose(ours.S, S, rtol=1e-4)
    if system == "acrobot":  # Tedrake's notes (Q = diag(10, 10, 1, 1), R = 1): K ≈ [-278.4, -112.3, -119.7, -56.8]
        np.testing.assert_allclose(ours.K[0], [-278.44, -112.29, -119.72, -56.83], atol=0.05)


def test_angle_masks_agree_across_backends_and_wrap():
    for system, expected in [("acrobot", [True, True]), ("cartpole", [False, True])]:
        for backend in underact.BACKENDS:
            assert angle_mask(underact.load(system, backend)).tolist() == expected
    dq = wrap_angles(np.array([2 * np.pi + 0.1, 7.0]), np.array([True, False]))
    np.testing.assert_allclose(dq, [0.1, 7.0])


@pytest.mark.parametrize("system", SYSTEMS)
def test_lqr_alone_balances_near_upright_and_fails_from_hanging(system):
    plant = underact.load(system, "analytic")
    lqr = LQRController(plant)
    rng = np.random.default_rng(0)
    q_near = plant.upright + rng.uniform(-0.05, 0.05, (6, plant.nq)) * angle_mask(plant)
    t, Q, V, _ = rk4_rollout(plant, lqr, q_near, np.zeros_like(q_near), 5.0, dt=2e-3, record_every=5)
    assert _stays_upright(plant, t, Q, V).all()
    assert np.all(lqr.cost(Q[-1], V[-1]) < 0.05 * lqr.cost(Q[0], V[0]))
    q_down, v_down = _starts(plant, range(6))
    t, Q, V, _ = rk4_rollout(plant, lqr, q_down, v_down, 5.0, dt=2e-3, record_every=5)
    assert not _stays_upright(plant, t, Q, V).any()


@pytest.mark.parametrize("backend", underact.BACKENDS)
def test_collocated_pfl_gives_the_commanded_acceleration_in_the_engine(backend):
    """u from PFL, fed to the engine's own forward dynamics, accelerates the actuated joint exactly as asked."""
    plant = underact.load("acrobot", backend)
    rng = np.random.default_rng(1)
    q, v = rng.uniform(-3, 3, (4, 2)), rng.uniform(-2, 2, (4, 2))
    qdd_a = rng.uniform(-10, 10, (4, 1))
    u = collocated_pfl(plant.terms(q, v), plant.damping(v), qdd_a, np.array([1]), np.array([0]))
    for i in range(4):
        if backend == "mujoco":
            import mujoco

            d = plant.data
            d.qpos[:], d.qvel[:], d.ctrl[:] = q[i], v[i], u[i]
            mujoco.mj_forward(plant.model, d)
            acc = d.qacc.copy()
        elif backend == "drake":
            mbp = plant.plant
            ctx = mbp.CreateDefaultContext()
            mbp.SetPositions(ctx, q[i])
            mbp.SetVelocities(ctx, v[i])
            mbp.get_actuation_input_port().FixValue(ctx, u[i])
            acc = mbp.EvalTimeDerivatives(ctx).CopyToVector()[2:]
        else:
            acc = plant.vdot(q[i], v[i], u[i])
        assert acc[1] == pytest.approx(qdd_a[i, 0], rel=1e-8, abs=1e-8)


@pytest.mark.parametrize("system", SYSTEMS)
def test_controllers_built_on_each_backend_give_the_same_input(system):
    q = np.array([[0.4, -0.7], [2.5, 0.3]])
    v = np.array([[1.2, -0.5], [-0.3, 2.0]])
    inputs = {}
    for backend in underact.BACKENDS:
        plant = underact.load(system, backend)
        controller = swing_up_and_balance(plant)
        inputs[backend] = controller(0.0, q, v)
        assert controller(0.0, q[0], v[0]).shape == (1,)
    np.testing.assert_allclose(inputs["drake"], inputs["analytic"], rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(inputs["mujoco"], inputs["analytic"], rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("system, duration", [("acrobot", 12.0), ("cartpole", 6.0)])
def test_swing_up_and_balance_succeeds_from_every_seed(system, duration):
    plant = underact.load(system, "analytic")
    controller = swing_up_and_balance(plant)
    q0, v0 = _starts(plant, range(10))
    t, Q, V, U = rk4_rollout(plant, controller, q0, v0, duration)
    assert _stays_upright(plant, t, Q, V).all()
    assert np.abs(U).max() <= plant.u_limit[0] + 1e-12
    assert controller.balancing(Q[-1], V[-1]).all()


def test_target_energy_is_spongs():
    """E_d = (m1 lc1 + m2 (l1 + lc2)) g above the horizontal, i.e. twice that above the hanging rest."""
    plant = underact.load("acrobot", "analytic")
    assert AcrobotSwingUp(plant).E_d == pytest.approx(2 * (1.0 * 0.5 + 1.0 * (1.0 + 1.0)) * 9.81)
    assert CartPoleSwingUp(underact.load("cartpole", "analytic")).E_d == pytest.approx(2 * 1.0 * 9.81 * 0.5)


def test_pole_energy_shaping_is_monotone():
    """Pure shaping (no cart PD, no saturation): Ė_p = −ke (m l cos θ θ̇)² Ẽ, so |Ẽ| never grows until E_d."""
    plant = underact.load("cartpole", "analytic")
    shaping = CartPoleSwingUp(plant, kp=0.0, kd=0.0, u_limit=np.inf)
    q0, v0 = _starts(plant, range(5))
    _, Q, V, _ = rk4_rollout(plant, shaping, q0, v0, 3.0)
    err = np.abs(shaping.energy_error(Q, V))  # (T, N)
    for i in range(5):
        near = np.flatnonzero(err[:, i] < 0.01 * shaping.E_d)
        assert near.size, "the energy never reached 1% of E_d"
        assert np.all(np.diff(err[: near[0] + 1, i]) <= 1e-9)


@pytest.mark.parametrize("system, reach_s", [("acrobot", 1.0), ("cartpole", 2.0)])
def test_energy_pumping_is_what_reaches_e_d(system, reach_s):
    """With the default gains |Ẽ| falls below 5% of E_d within reach_s; with ke = 0 it never does."""
    plant = underact.load(system, "analytic")
    cls = AcrobotSwingUp if system == "acrobot" else CartPoleSwingUp
    q0, v0 = _starts(plant, range(5))
    for ke, reaches in [(None, True), (0.0, False)]:
        ctrl = cls(plant) if ke is None else cls(plant, ke=ke)
        t, Q, V, _ = rk4_rollout(plant, ctrl, q0, v0, reach_s, dt=2e-3, record_every=5)
        reached = (np.abs(ctrl.energy_error(Q, V)) < 0.05 * ctrl.E_d).any(axis=0)
        assert reached.all() if reaches else not reached.any()


def test_pinv_tracking_is_exact_when_fully_actuated_and_leaves_a_residual_when_not():
    pend = underact.load("pendulum", "analytic")
    track = PseudoInverseTracking(pend, MinimumJerk([0.0], [0.5], 1.0))
    t, Q, V, _ = rk4_rollout(pend, track, [[0.0]], [[0.0]], 1.5)
    np.testing.assert_allclose(Q[-1, 0], [0.5], atol=1e-4)
    assert np.abs(track.residual(0.7, Q[70, 0], V[70, 0])).max() < 1e-9
    acro = underact.load("acrobot", "analytic")
    track = PseudoInverseTracking(acro, MinimumJerk(acro.q_rest, acro.upright, 3.0))
    t, Q, V, _ = rk4_rollout(acro, track, [acro.q_rest], [[0.0, 0.0]], 3.0)
    residual = track.residual(1.5, Q[150, 0], V[150, 0])
    assert np.linalg.norm(residual) > 1.0
    assert np.abs(Q[-1, 0, 0] - np.pi) > 1.0  # the passive shoulder does not follow the reference
