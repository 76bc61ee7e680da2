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


@pytest.fixture
def massless_urdf(tmp_path):
    """A prismatic joint to a massless link: Drake loads it and M(q) = [[0]]."""
    from underact.description.generate import urdf_chain

    path = tmp_path / "massless.urdf"
    path.write_text(urdf_chain(1, [1], joint_type="prismatic", mass=0.0))
    return path


def test_singular_mass_matrix_named(massless_urdf):
    from underact.errors import SingularMassMatrixError

    plant = load(massless_urdf, "drake")
    with pytest.raises(
        SingularMassMatrixError, match=r"massless \(drake\): the mass matrix M\(q\) is singular at q = "
    ):
        analyze(plant)
    with pytest.raises(SingularMassMatrixError, match=r"singular at q = \[0\.5\]"):
        linearize(plant, [0.5])


def test_check_mass_matrix_names_the_first_bad_state():
    from underact.analysis import check_mass_matrix
    from underact.errors import SingularMassMatrixError

    plant = load("acrobot", "analytic")
    q = np.array([[0.0, 0.0], [0.1, 0.2], [0.3, 0.4]])
    M = plant.terms(q, np.zeros_like(q)).M
    check_mass_matrix(plant, q, M)  # regular: no error
    M[1, 0, 0] = np.nan
    with pytest.raises(SingularMassMatrixError, match=r"is not finite at q = \[0\.1, 0\.2\]"):
        check_mass_matrix(plant, q, M)
    M[1] = M[2] = [[1.0, 1.0], [1.0, 1.0]]
    with pytest.raises(SingularMassMatrixError, match=r"is singular at q = \[0\.1, 0\.2\]"):
        check_mass_matrix(plant, q, M)


def test_equilibrium_magnitude_bounded():
    from underact import UnderactError

    plant = load("acrobot", "analytic")
    for bad in ([1e308, 1e308], [np.inf, 0.0], [1e4 + 1, 0.0]):
        with pytest.raises(UnderactError, match="an equilibrium needs 2 finite entries within ±10000"):
            analyze(plant, bad)
    assert analyze(plant, [1e4, 0.0], samples=3).controllable is True


def test_progress_bar_for_long_sampling(capsys):
    plant = load("acrobot", "analytic")
    analyze(plant, samples=100, progress=True)
    assert capsys.readouterr().err == ""
    report = analyze(plant, samples=10_000, progress=True)
    assert report.samples == 10_001 and report.rank == report.rank_max == 1
    err = capsys.readouterr().err
    assert "sampling M⁻¹B" in err and "10001/10001" in err


def test_mat_written_exactly_and_atomically(tmp_path):
    """Exactly the path given; a failed write (file-size limit hit mid-write) leaves the old file and no temp."""
    import subprocess
    import sys

    report = analyze(load("pendulum", "analytic"), samples=3)
    target = tmp_path / "Out.MAT"
    report.write_mat(target)
    assert [p.name for p in tmp_path.iterdir()] == ["Out.MAT"]
    np.testing.assert_allclose(scipy.io.loadmat(target)["M"], report.M_eq)
    target.write_bytes(b"old")
    script = (
        "import resource, signal, sys\n"
        "from underact import load\nfrom underact.analysis import analyze\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "report = analyze(load('pendulum', 'analytic'), samples=3)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))\n"
        "try:\n    report.write_mat(sys.argv[1])\nexcept OSError as exc:\n    print(exc.strerror)\n"
    )
    p = subprocess.run([sys.executable, "-c", script, str(target)], capture_output=True, text=True, timeout=60)
    assert p.stdout.strip() == "File too large", p.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["Out.MAT"] and target.read_bytes() == b"old"
