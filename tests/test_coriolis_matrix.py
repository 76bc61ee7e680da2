"""The Coriolis matrix C on every backend: C v = Cv, and Ṁ − 2C skew-symmetric with Ṁ from central differences.

Ṁ is computed here, independently of every engine's C: M at q(±h) along the motion with velocity v, where a free
body's quaternion turns by exp(±h ω/2) (ω in the world) and its position moves by ±h v. The built-ins' C is also
checked against Christoffel symbols from central differences of M in q, and the Panda's (example-robot-data)
across Drake, MuJoCo and Pinocchio, fixed and floating.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import underact
from underact.errors import UnderactError
from underact.plants.base import quat_mul

BUILTIN_BACKENDS = ("analytic", "drake", "mujoco", "pinocchio")
ENGINES = ("drake", "mujoco", "pinocchio")


def robots_dir() -> Path:
    dist = importlib.metadata.distribution("example-robot-data")
    return Path(dist.locate_file("cmeel.prefix/share/example-robot-data/robots"))


PANDA = robots_dir() / "panda_description" / "urdf" / "panda.urdf"


def load(model, backend, base="auto"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return underact.load(model, backend, base=base) if base != "auto" else underact.load(model, backend)


def states(plant, n, seed):
    rng = np.random.default_rng(seed)
    return plant.random_q(rng, n), rng.uniform(-2.0, 2.0, size=(n, plant.nv))


def advance(plant, q, v, h):
    """q(h) along the motion with constant velocity v: free bodies on the manifold, the rest q + h v."""
    q = np.array(q, dtype=np.float64)
    out = q.copy()
    iq = iv = 0
    starts = list(plant.quaternion_starts) + [plant.nq]
    for s in starts:
        n = s - iq
        out[..., iq:s] = q[..., iq:s] + h * v[..., iv : iv + n]
        iq, iv = s, iv + n
        if s == plant.nq:
            break
        w = v[..., iv : iv + 3]
        angle = np.linalg.norm(w, axis=-1, keepdims=True)
        axis = w / np.where(angle > 0, angle, 1.0)
        turn = np.concatenate([np.cos(0.5 * h * angle), np.sin(0.5 * h * angle) * axis], -1)
        out[..., s : s + 4] = quat_mul(turn, q[..., s : s + 4])
        out[..., s + 4 : s + 7] = q[..., s + 4 : s + 7] + h * v[..., iv + 3 : iv + 6]
        iq, iv = s + 7, iv + 6
    return out


def mdot(plant, q, v, h=1e-5):
    """Ṁ by central differences of M along the motion."""
    zero = np.zeros_like(v)
    return (plant.terms(advance(plant, q, v, h), zero).M - plant.terms(advance(plant, q, v, -h), zero).M) / (2 * h)


def check_identities(plant, q, v, skew_atol):
    t = plant.terms(q, v)
    scale = max(1.0, float(np.abs(t.C).max()))
    np.testing.assert_allclose(np.einsum("nij,nj->ni", t.C, v), t.Cv, atol=1e-12 * scale * plant.nv)
    N = mdot(plant, q, v) - 2 * t.C
    np.testing.assert_allclose(N + np.swapaxes(N, 1, 2), 0.0, atol=skew_atol * scale)


@pytest.mark.parametrize("backend", BUILTIN_BACKENDS)
@pytest.mark.parametrize("system", underact.BUILTINS)
def test_builtin_C_times_v_is_Cv_and_Mdot_minus_2C_is_skew(system, backend):
    plant = load(system, backend)
    q, v = states(plant, 8, seed=1)
    check_identities(plant, q, v, skew_atol=1e-8)


@pytest.mark.parametrize("system", ["acrobot", "cartpole"])
def test_builtin_C_is_the_christoffel_form_of_M(system):
    """C_ij = Σ_k ½(∂M_ij/∂q_k + ∂M_ik/∂q_j − ∂M_jk/∂q_i) v_k, ∂M/∂q by central differences, on every backend."""
    reference = load(system, "analytic")
    q, v = states(reference, 6, seed=2)
    h, n = 1e-6, reference.nv
    dM = np.stack(
        [
            (reference.terms(q + h * e, np.zeros_like(v)).M - reference.terms(q - h * e, np.zeros_like(v)).M) / (2 * h)
            for e in np.eye(n)
        ],
        axis=-1,
    )  # dM[s, i, j, k] = ∂M_ij/∂q_k
    gamma = 0.5 * (dM + np.swapaxes(dM, 2, 3) - np.transpose(dM, (0, 3, 1, 2)))  # Γ[s, i, j, k]
    christoffel = np.einsum("sijk,sk->sij", gamma, v)
    for backend in BUILTIN_BACKENDS:
        np.testing.assert_allclose(load(system, backend).coriolis(q, v), christoffel, atol=1e-8, err_msg=backend)


def test_C_is_not_unique_the_books_acrobot_C_is_not_skew():
    """Tedrake's printed acrobot C gives the same C v but Ṁ − 2C is not skew-symmetric: the Christoffel one is."""
    plant = load("acrobot", "analytic")
    q, v = states(plant, 5, seed=3)
    h = plant.constants[2] * np.sin(q[:, 1])
    book = np.stack([np.stack([-2 * h * v[:, 1], -h * v[:, 1]], -1), np.stack([h * v[:, 0], 0 * h], -1)], -2)
    t = plant.terms(q, v)
    np.testing.assert_allclose(np.einsum("nij,nj->ni", book, v), t.Cv, atol=1e-12)
    N_book = mdot(plant, q, v) - 2 * book
    assert np.abs(N_book + np.swapaxes(N_book, 1, 2)).max() > 0.1
    assert not np.allclose(book, t.C)


@pytest.mark.parametrize("base", ["fixed", "floating"])
@pytest.mark.parametrize("backend", ENGINES)
def test_panda_C_identities(backend, base):
    plant = load(PANDA, backend, base)
    q, v = states(plant, 4, seed=4)
    check_identities(plant, q, v, skew_atol=1e-7)


@pytest.mark.parametrize("base", ["fixed", "floating"])
def test_panda_C_agrees_across_engines(base):
    """Drake (AutoDiff), MuJoCo (its analytic RNE derivative) and Pinocchio (spatial algebra) give one C."""
    plants = {b: load(PANDA, b, base) for b in ENGINES}
    names = plants["drake"].velocity_names
    assert all(p.velocity_names == names for p in plants.values())
    q, v = states(plants["drake"], 5, seed=5)
    C = {b: p.coriolis(q, v) for b, p in plants.items()}
    for b in ("mujoco", "pinocchio"):
        np.testing.assert_allclose(C[b], C["drake"], atol=1e-11, err_msg=b)


def test_floating_C_is_not_the_symmetric_half_of_the_bias_derivative():
    """On a free body the symmetric ½ ∂(Cv)/∂v satisfies C v = Cv but not the skew identity; C does both."""
    plant = load(PANDA, "drake", "floating")
    q, v = states(plant, 3, seed=6)
    C = plant.coriolis(q, v)
    h = 1e-6
    Cv = lambda dv: plant.terms(q, v + dv).Cv  # noqa: E731
    sym = 0.5 * np.stack([(Cv(h * e) - Cv(-h * e)) / (2 * h) for e in np.eye(plant.nv)], axis=-1)
    N_sym = mdot(plant, q, v) - 2 * sym
    assert np.abs(N_sym + np.swapaxes(N_sym, 1, 2)).max() > 1e-3
    assert np.abs(C - sym).max() > 1e-3


def test_C_is_lazy_single_and_batched():
    plant = load("acrobot", "drake")
    q, v = states(plant, 3, seed=7)
    t = plant.terms(q, v)
    assert "C" not in t.__dict__  # not computed until read
    assert t.C.shape == (3, 2, 2)
    single = plant.terms(q[1], v[1])
    np.testing.assert_allclose(single.C, t.C[1], atol=1e-15)
    np.testing.assert_allclose(plant.coriolis(q[1], v[1]), t.C[1], atol=1e-15)
    q_copy = q.copy()
    t2 = plant.terms(q, v)
    q[:] = 0.0  # the caller's arrays may change afterwards: C is of the state asked for
    np.testing.assert_allclose(t2.C, plant.coriolis(q_copy, v), atol=1e-15)
    assert set(t.as_dict(with_C=True)) == {"M", "Cv", "tau_g", "B", "C"}
    assert set(t.as_dict()) == {"M", "Cv", "tau_g", "B"}


def test_C_refused_in_one_line_for_ball_joints():
    xml = (
        '<mujoco><worldbody><body><joint type="ball"/><geom type="capsule" size=".05" fromto="0 0 0 0 0 -1"/>'
        "</body></worldbody></mujoco>"
    )
    from underact.plants.mujoco import MujocoPlant

    plant = MujocoPlant.from_xml_string(xml, "ball")
    q = np.array([1.0, 0.0, 0.0, 0.0])
    with pytest.raises(UnderactError, match="ball joints") as info:
        _ = plant.terms(q, np.ones(3)).C
    assert "\n" not in str(info.value)


def test_cli_equation_prints_and_carries_C():
    import json

    cmd = [sys.executable, "-m", "underact.cli", "equation", "acrobot", "--q", "0.3,-0.2", "--v", "0.1,0.5", "--C"]
    out = json.loads(subprocess.run([*cmd, "--json"], capture_output=True, text=True, check=True).stdout)
    expected = load("acrobot", "analytic").coriolis(np.array([0.3, -0.2]), np.array([0.1, 0.5]))
    np.testing.assert_allclose(out["C"], expected, atol=1e-9)
    text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    assert "C =" in text
    plain = subprocess.run(cmd[:-1] + ["--json"], capture_output=True, text=True, check=True).stdout
    assert "C" not in json.loads(plain)


@pytest.mark.parametrize("backend", ENGINES)
def test_C_at_velocities_beyond_mujocos_bounds(backend):
    """MuJoCo's step resets a state past 1e10 unless told not to; C must still be the C of the state asked for."""
    q, v = np.array([[0.3, -0.7]]), np.array([[2e10, -3e10]])
    C, expected = load("acrobot", backend).coriolis(q, v), load("acrobot", "analytic").coriolis(q, v)
    np.testing.assert_allclose(C, expected, atol=1e-13 * np.abs(expected).max())
