"""The actuation analyzer, the linearisation and the .mat export, against closed-form facts."""

import json

import numpy as np
import pytest
import scipy.io

from underact import load
from underact.analysis import analyze, controllability_rank, linearize, matrix_ranks, unactuated_basis
from underact.cli import main


@pytest.mark.parametrize("backend", ["analytic", "drake", "mujoco"])
def test_builtins_classify(backend):
    acro = analyze(load("acrobot", backend)).to_json()
    assert acro["class"] == "underactuated" and acro["degree"] == 1 and acro["rank"] == acro["rank_max"] == 1
    assert acro["unactuated_directions"] == [[1.0, 0.0]]  # the shoulder
    assert acro["controllable"] is True and acro["controllability_rank"] == 4
    cart = analyze(load("cartpole", backend)).to_json()
    assert cart["unactuated_directions"] == [[0.0, 1.0]] and cart["controllable"] is True
    pend = analyze(load("pendulum", backend)).to_json()
    assert pend["class"] == "fully-actuated" and pend["degree"] == 0 and pend["unactuated_directions"] == []


def test_json_keys_exact(capsys):
    assert main(["analyze", "cartpole", "--json", "--backend", "analytic"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == [
        "nq",
        "nv",
        "nu",
        "rank",
        "rank_max",
        "class",
        "degree",
        "unactuated_directions",
        "equilibrium",
        "controllable",
        "controllability_rank",
    ]
    assert out["equilibrium"] == [0.0, np.pi]


def test_linearisation_matches_closed_form_cartpole():
    """Cart-pole upright, b = 0: ẍ = (u + mp g θ̃)/mc... derived by hand from M, τg (Tedrake §3.2.1)."""
    mc, mp, ell, g = 10.0, 1.0, 0.5, 9.81
    A, B = linearize(load("cartpole", "analytic"), [0.0, np.pi])
    # About θ = π with θ̃ = θ − π: [mc+mp, −mp l; −mp l, mp l²] [ẍ; θ̃̈] = [u; mp g l θ̃]
    A_ref = np.zeros((4, 4))
    A_ref[:2, 2:] = np.eye(2)
    A_ref[2, 1] = mp * g / mc
    A_ref[3, 1] = g * (mc + mp) / (mc * ell)
    B_ref = np.array([[0], [0], [1 / mc], [1 / (mc * ell)]])
    np.testing.assert_allclose(A, A_ref, atol=1e-7)
    np.testing.assert_allclose(B, B_ref, atol=1e-7)
    assert controllability_rank(A, B) == 4


def test_uncontrollable_linearisation_detected():
    """Two decoupled identical integrators driven by one input are not controllable (rank 2 of 4)."""
    A = np.block([[np.zeros((2, 2)), np.eye(2)], [np.zeros((2, 4))]])
    B = np.array([[0], [0], [1], [1]])
    assert controllability_rank(A, B) == 2


def test_rank_helpers():
    mats = np.stack([np.diag([1.0, 0.0]), np.eye(2), np.diag([1e-3, 1e-14])])
    assert matrix_ranks(mats).tolist() == [1, 2, 1]
    basis = unactuated_basis(np.array([[1.0], [1.0]]))
    np.testing.assert_allclose(np.abs(basis), [[np.sqrt(0.5), np.sqrt(0.5)]])
    assert abs(basis[0] @ [1.0, 1.0]) < 1e-12


def test_mat_round_trip_column_major(tmp_path, capsys):
    """scipy writes MATLAB's column-major layout: loadmat returns the same (non-square) matrices."""
    path = tmp_path / "acrobot.mat"
    assert main(["analyze", "acrobot", "--backend", "analytic", "--mat", str(path)]) == 0
    report = analyze(load("acrobot", "analytic"))
    data = scipy.io.loadmat(path)
    assert data["B"].shape == (2, 1) and data["B_lin"].shape == (4, 1) and data["A_lin"].shape == (4, 4)
    np.testing.assert_allclose(data["M"], report.M_eq)
    np.testing.assert_allclose(data["A_lin"], report.A_lin)
    np.testing.assert_allclose(data["B_lin"], report.B_lin)
    # A non-square, asymmetric matrix: a row-major mix-up would scramble or transpose it.
    rect = np.arange(6.0).reshape(2, 3)
    scipy.io.savemat(tmp_path / "r.mat", {"R": rect})
    raw = (tmp_path / "r.mat").read_bytes()
    col_major = np.asarray(rect.flatten(order="F"), dtype="<f8").tobytes()
    assert col_major in raw and np.asarray(rect.flatten(order="C"), dtype="<f8").tobytes() not in raw
    np.testing.assert_array_equal(scipy.io.loadmat(tmp_path / "r.mat")["R"], rect)


def test_equilibrium_flag(capsys):
    assert main(["analyze", "acrobot", "--backend", "analytic", "--equilibrium", "0,0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["equilibrium"] == [0.0, 0.0] and out["controllable"] is True
