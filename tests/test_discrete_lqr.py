"""Sampled-data LQR: the zero-order-hold discretisation and gain against Drake's discrete regulator."""

from __future__ import annotations

import numpy as np
import pytest
from pydrake.systems.controllers import DiscreteTimeLinearQuadraticRegulator

from underact import load
from underact.control import DiscreteLQRController
from underact.control.lqr import zero_order_hold


@pytest.mark.parametrize("model", ["acrobot", "cartpole"])
def test_discrete_gain_matches_drake(model):
    c = DiscreteLQRController(load(model, "analytic"), dt=0.05)
    K, S = DiscreteTimeLinearQuadraticRegulator(c.A_d, c.B_d, c.Q, c.R)
    np.testing.assert_allclose(c.K, K, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(c.S, S, rtol=1e-7, atol=1e-9 * np.abs(S).max())
    assert np.abs(np.linalg.eigvals(c.A_d - c.B_d @ c.K)).max() < 1.0


def test_zero_order_hold_of_a_double_integrator():
    """ẍ = u held for dt: x⁺ = x + dt ẋ + dt²/2 u, ẋ⁺ = ẋ + dt u (closed form)."""
    dt = 0.1
    Ad, Bd = zero_order_hold(np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[0.0], [1.0]]), dt)
    np.testing.assert_allclose(Ad, [[1.0, dt], [0.0, 1.0]], atol=1e-15)
    np.testing.assert_allclose(Bd, [[dt**2 / 2], [dt]], atol=1e-15)


def test_dt_is_validated():
    with pytest.raises(ValueError, match="dt must be a positive"):
        DiscreteLQRController(load("acrobot", "analytic"), dt=float("nan"))
