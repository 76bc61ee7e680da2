"""Controllability of linearisations: the staircase rank against a 50-digit Krylov rank (mpmath), the closed form
of a fully actuated chain, and systems that are exactly uncontrollable, on Drake and MuJoCo."""

import json
import subprocess
import sys
import tracemalloc

import mpmath
import numpy as np
import pytest

from underact import load
from underact.analysis import controllability_rank, linearize
from underact.description.generate import urdf_chain
from underact.errors import UnderactError

# A cart carrying two identical pendulums from one hinge point: the pendulums' difference is unreachable from the
# cart's force (both feel the same acceleration), so 2 of the 6 states are not controllable.
CART_TWO_PENDULUMS = """<mujoco model="cart2">
  <worldbody>
    <body name="cart"><joint name="x" type="slide" axis="1 0 0"/><geom type="box" size="0.2 0.1 0.1" mass="10"/>
      <body name="p1"><joint name="th1" type="hinge" axis="0 1 0"/>
        <geom type="capsule" fromto="0 0 0 0 0 -1" size="0.05" mass="1"/></body>
      <body name="p2"><joint name="th2" type="hinge" axis="0 1 0"/>
        <geom type="capsule" fromto="0 0 0 0 0 -1" size="0.05" mass="1"/></body>
    </body>
  </worldbody>
  <actuator><motor joint="x"/></actuator>
</mujoco>
"""

# Two pendulums hanging from the world side by side, only the first driven: the second is a decoupled passive joint.
_ROD = (
    '<inertial><origin xyz="0 0 -0.5"/><mass value="1"/>'
    '<inertia ixx="0.1" iyy="0.1" izz="0.01" ixy="0" ixz="0" iyz="0"/></inertial>'
)
DECOUPLED_BRANCH = f"""<robot name="branches"><link name="world"/>
  <link name="a">{_ROD}</link><link name="b">{_ROD}</link>
  <joint name="ja" type="continuous"><parent link="world"/><child link="a"/><axis xyz="0 1 0"/></joint>
  <joint name="jb" type="continuous"><parent link="world"/><child link="b"/><origin xyz="2 0 0"/><axis xyz="0 1 0"/>
  </joint>
  <transmission name="t"><type>transmission_interface/SimpleTransmission</type>
    <joint name="ja"><hardwareInterface>EffortJointInterface</hardwareInterface></joint>
    <actuator name="m"><mechanicalReduction>1</mechanicalReduction></actuator></transmission>
</robot>
"""


def mp_rank(columns: list[list], rtol) -> int:
    """Rank of the matrix with these columns at the current mpmath precision: Gaussian elimination with complete
    pivoting, pivots above rtol · the largest entry counted (no SVD, nothing shared with the code under test)."""
    rows = [list(c) for c in columns]
    largest = max((abs(x) for r in rows for x in r), default=mpmath.mpf(0))
    rank = 0
    while rows:
        i, j = max(
            ((i, j) for i in range(len(rows)) for j in range(len(rows[i]))), key=lambda ij: abs(rows[ij[0]][ij[1]])
        )
        pivot = rows[i][j]
        if abs(pivot) <= rtol * largest:
            break
        rank += 1
        p = rows.pop(i)
        rows = [[x - (r[j] / pivot) * y for x, y in zip(r, p, strict=True)] for r in rows]
    return rank


def krylov_rank_50_digits(A: np.ndarray, B: np.ndarray, second_order: bool = False, rtol: float = 1e-30) -> int:
    """Rank of [B, AB, A²B, …] at 50 digits, each block's columns scaled to unit size (the rank does not change),
    pivots above rtol · the largest counted: 1e-30 takes the float64 data as exact.

    `second_order=True` takes (A, B) = ([0 I; K 0], [0; G]) of an undamped mechanical system, whose Krylov matrix
    holds [0; KᵏG] and [KᵏG; 0]: its rank is twice the rank of [G, KG, K²G, …] (n × n·m instead of 2n × 2n·m).
    """
    with mpmath.workdps(50):
        if second_order:
            n = len(A) // 2
            assert not A[:n, :n].any() and not A[n:, n:].any() and not B[:n].any()
            np.testing.assert_array_equal(A[:n, n:], np.eye(n))
            A, B = A[n:, :n], B[n:]
        A_mp = mpmath.matrix(A.tolist())
        block = [[mpmath.mpf(x) for x in col] for col in B.T.tolist()]
        columns, rank = [], 0
        for _ in range(len(A)):
            block = [[x / max(abs(y) for y in col) for x in col] if any(col) else col for col in block]
            columns += block
            rank = mp_rank(columns, mpmath.mpf(rtol))
            if rank == len(A):
                break
            block = [list(A_mp * mpmath.matrix(col)) for col in block]
    return 2 * rank if second_order else rank


def chain(tmp_path, n: int, actuated, backend: str = "drake"):
    path = tmp_path / f"chain{n}.urdf"
    path.write_text(urdf_chain(n, actuated))
    plant = load(str(path), backend)
    return linearize(plant, plant.upright)


@pytest.mark.parametrize("backend", ["analytic", "drake", "mujoco"])
@pytest.mark.parametrize("name", ["acrobot", "cartpole", "pendulum"])
def test_builtins_exact(name, backend):
    plant = load(name, backend)
    A, B = linearize(plant, plant.upright)
    assert controllability_rank(A, B) == krylov_rank_50_digits(A, B) == 2 * plant.nv


@pytest.mark.parametrize(
    "n, actuated",
    [(2, [1]), (2, [2]), (3, [1]), (3, [3]), (4, [1]), (4, [2, 4]), (4, [1, 2, 3, 4]), (6, [1]), (6, [6]), (6, [1, 4])],
)
def test_short_chains_match_krylov_at_50_digits(tmp_path, n, actuated):
    A, B = chain(tmp_path, n, actuated)
    assert controllability_rank(A, B) == krylov_rank_50_digits(A, B) == 2 * n


@pytest.mark.parametrize("n", [2, 4, 16, 64])  # 100 links: test_cli_analyze_hundred_links
def test_fully_actuated_chains_are_controllable(tmp_path, n):
    """Closed form: with a motor on every joint, B = [0; M⁻¹] and [B, AB] = [0 M⁻¹; M⁻¹ ·] has rank 2n."""
    A, B = chain(tmp_path, n, range(1, n + 1))
    assert controllability_rank(A, B) == 2 * n


@pytest.mark.parametrize("n, every", [(16, 4), (64, 8), (100, 10)])
def test_long_chains_with_passive_joints_match_krylov_at_50_digits(tmp_path, n, every):
    A, B = chain(tmp_path, n, [i for i in range(1, n + 1) if i % every])
    assert controllability_rank(A, B) == krylov_rank_50_digits(A, B, second_order=True) == 2 * n


@pytest.mark.parametrize("backend", ["drake", "mujoco"])
@pytest.mark.parametrize(
    "text, suffix, rank, states", [(CART_TWO_PENDULUMS, ".xml", 4, 6), (DECOUPLED_BRANCH, ".urdf", 2, 4)]
)
def test_uncontrollable_systems(tmp_path, backend, text, suffix, rank, states):
    path = tmp_path / f"model{suffix}"
    path.write_text(text)
    plant = load(str(path), backend)
    A, B = linearize(plant, plant.upright)
    assert A.shape == (states, states)
    # The closed form: the left subspace W (the pendulums' difference, in position and velocity; or the passive
    # branch) is invariant under A and blind to B, so at least len(W) states are unreachable.
    W = np.eye(states)[[1, 4]] - np.eye(states)[[2, 5]] if states == 6 else np.eye(states)[[1, 3]]
    np.testing.assert_allclose(W @ B, 0.0, atol=1e-12)
    WA = W @ A
    np.testing.assert_allclose(WA - WA @ np.linalg.pinv(W) @ W, 0.0, atol=1e-8)
    # At 50 digits, with the tolerance of the finite-difference data (the cart's A is symmetric to ~1e-15 only).
    assert controllability_rank(A, B) == krylov_rank_50_digits(A, B, rtol=1e-9) == rank
    # A rotation of the state and a scaling of the input leave the rank alone; their rounding must not create one.
    Q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((states, states)))
    assert controllability_rank(Q @ A @ Q.T, Q @ B * 1e3) == rank


def test_stiff_coordinates_and_exact_blocks():
    """Two decoupled identical integrators driven by one input (rank 2 of 4); a chain of integrators with gains
    from 1e-6 to 1e6 is controllable (its Krylov matrix's blocks span 10⁴⁸, past float64's relative rank)."""
    A = np.block([[np.zeros((2, 2)), np.eye(2)], [np.zeros((2, 4))]])
    assert controllability_rank(A, np.array([[0.0], [0.0], [1.0], [1.0]])) == 2
    n = 9
    A = np.diag(np.logspace(-6, 6, n - 1), k=-1)
    B = np.eye(n)[:, :1]
    assert controllability_rank(A, B) == n
    A[4, 3] = 0.0  # cut the chain: only the first four states are reached
    assert controllability_rank(A, B) == 4


def test_memory_is_quadratic():
    """A 600-state system with 300 inputs: the Krylov matrix alone would be 600 × 180 000 doubles (864 MB)."""
    n = 300
    rng = np.random.default_rng(1)
    K = rng.standard_normal((n, n))
    A = np.block([[np.zeros((n, n)), np.eye(n)], [K + K.T, np.zeros((n, n))]])
    B = np.vstack([np.zeros((n, n)), np.eye(n)])
    tracemalloc.start()
    try:
        assert controllability_rank(A, B) == 2 * n
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * (3 * n) ** 2 * 8  # a few copies of [A B]


@pytest.mark.parametrize(
    "A, B, match",
    [
        (np.full((2, 2), np.nan), np.ones((2, 1)), "finite"),
        (np.eye(2), np.ones((3, 1)), "A \\(n, n\\) and B \\(n, m\\)"),
        (np.ones((2, 3)), np.ones((2, 1)), "A \\(n, n\\)"),
    ],
)
def test_refusals_are_one_line(A, B, match):
    with pytest.raises(UnderactError, match=match) as info:
        controllability_rank(A, B)
    assert "\n" not in str(info.value)


def test_no_input_is_rank_zero():
    assert controllability_rank(np.eye(3), np.zeros((3, 0))) == 0
    assert controllability_rank(np.eye(3), np.zeros((3, 2))) == 0


@pytest.mark.parametrize("n", [4, 64])
def test_cli_analyze_says_controllable(tmp_path, n):
    path = tmp_path / f"chain{n}.urdf"
    path.write_text(urdf_chain(n, range(1, n + 1)))
    p = subprocess.run(
        [sys.executable, "-m", "underact.cli", "analyze", str(path), "--samples", "3", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["controllable"] is True and out["controllability_rank"] == 2 * n


def test_cli_analyze_hundred_links(tmp_path):
    path = tmp_path / "chain100.urdf"
    path.write_text(urdf_chain(100, range(1, 101)))
    p = subprocess.run(
        [sys.executable, "-m", "underact.cli", "analyze", str(path), "--samples", "3"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    assert "controllable (controllability rank 200 of 200)" in p.stdout and "Traceback" not in p.stderr


def test_repeated_eigenvalues():
    """Two identical acrobots side by side: every eigenvalue of A is double. Each with its own motor, the pair is
    controllable; one input driving both reaches only their common motion (half the states)."""
    A1, B1 = linearize(load("acrobot", "analytic"), load("acrobot", "analytic").upright)
    Z = np.zeros_like(A1)
    A = np.block([[A1, Z], [Z, A1]])
    own = np.block([[B1, np.zeros_like(B1)], [np.zeros_like(B1), B1]])
    shared = np.vstack([B1, B1])
    eig = np.sort_complex(np.linalg.eigvals(A))
    np.testing.assert_allclose(eig[0::2], eig[1::2], atol=1e-9)  # each eigenvalue twice
    assert controllability_rank(A, own) == krylov_rank_50_digits(A, own) == 8
    assert controllability_rank(A, shared) == krylov_rank_50_digits(A, shared) == 4
