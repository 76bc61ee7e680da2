"""The manipulator terms from closed form, Drake and MuJoCo agree, and obey textbook identities."""

import numpy as np
import pytest

from underact import load
from underact.errors import UnderactError

G = 9.81


def textbook_acrobot(q, v):
    """Spong's acrobot in Tedrake's notes (ch. 3), with Drake's Acrobot.urdf parameters, written out by hand."""
    m1 = m2 = 1.0
    l1, lc1, lc2 = 1.0, 0.5, 1.0
    I1, I2 = 0.083 + m1 * lc1**2, 0.33 + m2 * lc2**2
    q1, q2 = q
    d1, d2 = v
    c2, s2 = np.cos(q2), np.sin(q2)
    M = np.array(
        [[I1 + I2 + m2 * l1**2 + 2 * m2 * l1 * lc2 * c2, I2 + m2 * l1 * lc2 * c2], [I2 + m2 * l1 * lc2 * c2, I2]]
    )
    C = np.array([[-2 * m2 * l1 * lc2 * s2 * d2, -m2 * l1 * lc2 * s2 * d2], [m2 * l1 * lc2 * s2 * d1, 0.0]])
    tau_g = np.array(
        [
            -m1 * G * lc1 * np.sin(q1) - m2 * G * (l1 * np.sin(q1) + lc2 * np.sin(q1 + q2)),
            -m2 * G * lc2 * np.sin(q1 + q2),
        ]
    )
    return M, C @ v, tau_g, np.array([[0.0], [1.0]])


def textbook_cartpole(q, v):
    mc, mp, ell = 10.0, 1.0, 0.5
    _, th = q
    M = np.array([[mc + mp, mp * ell * np.cos(th)], [mp * ell * np.cos(th), mp * ell**2]])
    C = np.array([[0.0, -mp * ell * v[1] * np.sin(th)], [0.0, 0.0]])
    tau_g = np.array([0.0, -mp * G * ell * np.sin(th)])
    return M, C @ v, tau_g, np.array([[1.0], [0.0]])


@pytest.mark.parametrize("backend", ["analytic", "drake", "mujoco"])
@pytest.mark.parametrize("name,reference", [("acrobot", textbook_acrobot), ("cartpole", textbook_cartpole)])
def test_terms_match_textbook(backend, name, reference):
    plant = load(name, backend)
    rng = np.random.default_rng(1)
    q = rng.uniform(-np.pi, np.pi, (20, 2))
    v = rng.uniform(-3, 3, (20, 2))
    terms = plant.terms(q, v)  # batched
    for i in range(len(q)):
        M, Cv, tau_g, B = reference(q[i], v[i])
        np.testing.assert_allclose(terms.M[i], M, atol=1e-8)
        np.testing.assert_allclose(terms.Cv[i], Cv, atol=1e-8)
        np.testing.assert_allclose(terms.tau_g[i], tau_g, atol=1e-8)
        np.testing.assert_allclose(terms.B[i], B, atol=1e-8)
        np.testing.assert_allclose(terms.M[i], terms.M[i].T, atol=1e-12)
        assert np.linalg.eigvalsh(terms.M[i]).min() > 0


@pytest.mark.parametrize("name", ["acrobot", "cartpole", "pendulum"])
def test_three_backends_agree_including_damping_and_energy(name):
    plants = [load(name, b) for b in ("analytic", "drake", "mujoco")]
    rng = np.random.default_rng(2)
    q = plants[0].random_q(rng, 30)
    v = rng.normal(size=(30, plants[0].nv))
    ref = plants[0]
    for other in plants[1:]:
        assert (other.nq, other.nv, other.nu) == (ref.nq, ref.nv, ref.nu)
        np.testing.assert_allclose(other.damping(v), ref.damping(v), atol=1e-12)
        np.testing.assert_allclose(other.energy(q, v), ref.energy(q, v), atol=1e-8)
        np.testing.assert_allclose(other.vdot(q, v, np.ones((30, 1))), ref.vdot(q, v, np.ones((30, 1))), atol=1e-6)


def test_single_state_and_batch_shapes():
    plant = load("acrobot", "analytic")
    one = plant.terms([0.1, 0.2], [0.0, 1.0])
    assert one.M.shape == (2, 2) and one.Cv.shape == (2,) and one.B.shape == (2, 1)
    batch = plant.terms(np.zeros((5, 2)), np.zeros((5, 2)))
    assert batch.M.shape == (5, 2, 2) and batch.B.shape == (5, 2, 1)
    with pytest.raises(ValueError, match="shape"):
        plant.terms([0.1, 0.2, 0.3], [0, 0])


def test_damping_is_separate_from_Cv():
    """Drake's Acrobot.urdf has b = 0.1 on both joints: Cv is zero at zero speed whatever b is; damping is −b v."""
    plant = load("acrobot", "drake")
    t = plant.terms([0.4, 0.3], [0.0, 0.0])
    np.testing.assert_allclose(t.Cv, 0.0, atol=1e-14)
    np.testing.assert_allclose(plant.damping([1.0, -2.0]), [-0.1, 0.2])


def test_passive_undamped_acrobot_conserves_energy():
    """RK4 on the MuJoCo plant's terms; energy from the closed-form potential and ½vᵀMv is constant."""
    plant = load("acrobot", "mujoco", b1=0.0, b2=0.0)
    ref = load("acrobot", "analytic", b1=0.0, b2=0.0)
    q, v = np.array([1.0, -0.5]), np.array([0.0, 0.0])
    dt, u = 2e-3, np.zeros(1)
    e0 = ref.energy(q, v)

    def f(q, v):
        return v, plant.vdot(q, v, u)

    for _ in range(1000):  # 2 s of chaotic motion
        k1 = f(q, v)
        k2 = f(q + dt / 2 * k1[0], v + dt / 2 * k1[1])
        k3 = f(q + dt / 2 * k2[0], v + dt / 2 * k2[1])
        k4 = f(q + dt * k3[0], v + dt * k3[1])
        q = q + dt / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        v = v + dt / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
    assert np.abs(v).max() > 1.0  # it really moved
    assert abs(ref.energy(q, v) - e0) < 1e-6 * max(1.0, abs(e0))


def test_damped_acrobot_loses_energy_at_the_damping_rate():
    """dE/dt = vᵀ damping(v) = −b|v|² for a passive plant."""
    plant = load("acrobot", "analytic")
    q, v = np.array([1.0, -0.5]), np.array([0.7, -1.2])
    eps = 1e-6
    vd = plant.vdot(q, v, [0.0])
    dE = (plant.energy(q + eps * v, v + eps * vd) - plant.energy(q - eps * v, v - eps * vd)) / (2 * eps)
    assert dE == pytest.approx(float(v @ plant.damping(v)), rel=1e-6)


def test_parameter_overrides_and_errors():
    assert load("cartpole", "mujoco", l=1.0).terms([0, 0], [0, 0]).M[1, 1] == pytest.approx(1.0)
    with pytest.raises(UnderactError, match="unknown CartPoleParams"):
        load("cartpole", "analytic", length=2.0)
    with pytest.raises(UnderactError, match="neither a built-in"):
        load("no_such_model")
    with pytest.raises(UnderactError, match="unknown backend"):
        load("acrobot", "bullet")


def test_drake_shipped_examples_load():
    """A file path works like a built-in name; Drake's acrobot file equals the built-in."""
    from underact.plants.drake import BUILTIN_FILES, drake_examples_dir

    plant = load(drake_examples_dir() / BUILTIN_FILES["acrobot"], "drake")
    reference = load("acrobot", "analytic")
    np.testing.assert_allclose(plant.terms([0.3, 0.2], [1, 2]).M, reference.terms([0.3, 0.2], [1, 2]).M)
