"""The built-in systems' records (`underact.systems`): a toy system added through the registry alone, and the
Furuta pendulum checked against its engines, its energy, its swing-up and its tasks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import underact
import underact.envs  # noqa: F401 - registers the ids
from tests._adapters import step_all
from underact import systems
from underact.plants.trig import select, sincos
from underact.systems.base import System, TaskDefaults, TwoDofPlant, make_params, solve2

# --- a toy system, added through the registry alone ---------------------------------------------------------------


@dataclass(frozen=True)
class ToyParams:
    """A cart of mass m on a spring k, and (decoupled) a pendulum of point mass mp at l: the smallest two-DoF toy."""

    SYSTEM: ClassVar[str] = "toy"
    POSITIVE: ClassVar[frozenset] = frozenset({"m", "mp", "l", "u_limit"})

    m: float = 2.0
    k: float = 3.0
    mp: float = 0.5
    l: float = 0.4  # noqa: E741
    gravity: float = 9.81
    u_limit: float = 5.0


def toy_constants(p):
    return p.m, p.k, p.mp * p.l**2, p.mp * p.gravity * p.l


def toy_terms(q1, q2, v1, v2, c):
    s = sincos(q2)[0]
    return c[0], 0.0 * q1, c[2], 0.0 * q1, 0.0 * q1, -c[1] * q1, -c[3] * s


def toy_vdot(q1, q2, v1, v2, u, c):
    m11, m12, m22, cv1, cv2, tg1, tg2 = toy_terms(q1, q2, v1, v2, c)
    return solve2(m11, m12, m22, tg1 - cv1 + u, tg2 - cv2)


class ToyPlant(TwoDofPlant):
    _B = [[1.0], [0.0]]
    _vdot_parts = staticmethod(toy_vdot)
    _parts = staticmethod(toy_terms)

    def __init__(self, params=None):
        self.params = p = params or ToyParams()
        self.constants = toy_constants(p)
        self._set_common("toy", ["x", "theta"], ["x"], [0.0, 0.0], p.u_limit, [0.0, np.pi], [False, True])

    @staticmethod
    def _coriolis_parts(q1, q2, v1, v2, c):
        zero = 0.0 * q1
        return zero, zero, zero, zero

    def _potential(self, q):
        p = self.params
        return 0.5 * p.k * q[:, 0] ** 2 + p.mp * p.gravity * p.l * (1 - np.cos(q[:, 1]))


def toy_observe(q1, q2, v1, v2):
    s, c = sincos(q2)
    return q1, c, s, v1, v2


def toy_outcome(q1, q2, v1, v2, k):
    c = sincos(q2)[1]
    return select(k[0] > 0.0, 1.0, 0.5 * (1.0 - c)), np.abs(q1) > k[1]


def toy_scene(p, **options):
    from underact.render import PendulumScene

    return PendulumScene(p.l)


def _no_engine(p, overridden=False):
    raise underact.UnderactError("the toy has no engine models")


TOY = System(
    name="toy",
    params=ToyParams,
    plant=ToyPlant,
    constants=toy_constants,
    vdot=toy_vdot,
    mujoco_spec=_no_engine,
    drake_plant=_no_engine,
    drake_file=_no_engine,
    scene=toy_scene,
    jit=(toy_observe, toy_outcome),
    jit_inline=(toy_terms, toy_vdot),
    task=TaskDefaults(
        dt=0.02, substeps=2, trig_obs=(False, True, True, False, False), n_position_obs=3, observe=toy_observe,
        unobserve=lambda obs: (np.array([obs[0], np.arctan2(obs[2], obs[1])]), np.asarray(obs[3:5])),
        outcome=toy_outcome, outcome_constants=lambda task: (float(task.goal == "balance"), 3.0), fall_angle=0.5,
    ),
)


@pytest.fixture
def toy():
    systems.register(TOY)
    yield TOY
    systems.unregister("toy")


def test_toy_system_loads_steps_and_draws_through_the_registry_alone(toy):
    from underact.envs.base import SystemEnv
    from underact.envs.task import SystemTask
    from underact.render import builtin_scene
    from underact.simulate.rk4 import Kernel

    assert "toy" in systems.names()
    plant = underact.load("toy", "analytic", k=4.0)
    terms = plant.terms([0.5, 0.3], [0.0, 0.0])
    assert terms.tau_g[0] == pytest.approx(-4.0 * 0.5) and terms.M[1, 1] == pytest.approx(0.5 * 0.4**2)
    # The compiled step against its numpy oracle.
    task = SystemTask(make_params(ToyParams, {}, per_copy=True), "swingup", 0.5, 0.05, 10.0, system="toy")
    x = np.random.default_rng(0).uniform(-1, 1, (64, 4))
    force = np.linspace(-5, 5, 64)
    compiled = step_all(task, x, force)[0]
    np.testing.assert_allclose(compiled, Kernel("toy", task.params, task.dt, task.substeps).numpy(x, force),
                               rtol=1e-12, atol=1e-12)
    env = SystemEnv("toy", render_mode="rgb_array")
    check_env(env, skip_render_check=True)
    env.reset(seed=0)
    assert env.render().shape == (64, 64, 3)
    assert builtin_scene("toy", ToyParams()).render(np.zeros((1, 2)), 32, 32).shape == (1, 32, 32, 3)
    with pytest.raises(underact.UnderactError, match="no engine models"):
        underact.load("toy", "mujoco")


def test_a_toy_cannot_take_a_built_in_name():
    with pytest.raises(underact.UnderactError, match="built-in"):
        systems.register(System(**{**TOY.__dict__, "name": "furuta"}))


def test_unknown_system_is_one_line():
    with pytest.raises(underact.UnderactError, match="unknown system 'nope'"):
        systems.get("nope")


# --- the Furuta pendulum ------------------------------------------------------------------------------------------


def _states(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-np.pi, np.pi, (n, 2)), rng.uniform(-8, 8, (n, 2))


@pytest.mark.parametrize("overrides", [{}, {"m2": 0.1, "J2zz": 1e-5, "l1": 0.03, "gravity": 3.7, "b1": 0.01}])
def test_furuta_closed_form_drake_and_mujoco_agree(overrides):
    """The three sources (closed form, Drake from the SDF, MuJoCo from the spec) agree to 1e-12 (relative to the
    size of each term) on M, Cv, τg, B and damping, at the QUBE's values and at changed ones."""
    plants = [underact.load("furuta", backend, **overrides) for backend in ("analytic", "drake", "mujoco")]
    q, v = _states(50)
    reference = plants[0].terms(q, v)
    for plant in plants[1:]:
        terms = plant.terms(q, v)
        for name in ("M", "Cv", "tau_g", "B"):
            a, b = getattr(reference, name), getattr(terms, name)
            assert np.abs(a - b).max() <= 1e-12 * max(np.abs(a).max(), 1.0), (plant.backend, name)
        np.testing.assert_allclose(plant.damping(v), plants[0].damping(v), atol=1e-15)
        assert plant.velocity_names == ["theta1", "theta2"] and plant.actuator_names == ["theta1"]
        np.testing.assert_array_equal(plant.upright, [0.0, np.pi])


def test_furuta_mass_matrix_against_hand_numbers():
    """M at θ2 = π/2 from the QUBE's numbers worked by hand (uniform rods): M11 = J1zz + m1 l1² + m2 L1² +
    m2 l2² + J2yy, M12 = 0, M22 = J2xx + m2 l2²."""
    m1, L1, m2, L2 = 0.095, 0.085, 0.024, 0.129
    rod1, rod2 = m1 * L1**2 / 12, m2 * L2**2 / 12
    M = underact.load("furuta", "analytic").terms([0.3, np.pi / 2], [0.0, 0.0]).M
    expected_11 = rod1 + m1 * (L1 / 2) ** 2 + m2 * L1**2 + m2 * (L2 / 2) ** 2 + rod2
    np.testing.assert_allclose(M, [[expected_11, 0.0], [0.0, rod2 + m2 * (L2 / 2) ** 2]], rtol=1e-12, atol=1e-18)


def test_furuta_coriolis_is_christoffel():
    plant = underact.load("furuta", "analytic")
    q, v = _states(20, 1)
    C, terms = plant.coriolis(q, v), plant.terms(q, v)
    np.testing.assert_allclose(np.einsum("nij,nj->ni", C, v), terms.Cv, rtol=1e-12, atol=1e-18)
    eps = 1e-6  # Ṁ by central differences along v
    Mdot = (plant.terms(q + eps * v, v).M - plant.terms(q - eps * v, v).M) / (2 * eps)
    N = Mdot - 2 * C
    np.testing.assert_allclose(N, -np.swapaxes(N, 1, 2), atol=1e-9)


@pytest.mark.parametrize("backend", ["analytic", "mujoco"])
def test_furuta_energy_is_conserved_without_input_or_damping(backend):
    from underact.simulate import simulate

    plant = underact.load("furuta", backend)  # the QUBE's defaults have no damping
    assert not plant.b.any()
    q0, v0 = np.array([0.2, 2.5]), np.array([3.0, -1.0])
    traj = simulate(plant, lambda t, q, v: np.zeros(1), q0, v0, 3.0)
    energy = plant.energy(traj.q, traj.v)
    assert np.ptp(energy) < 1e-7 * abs(energy[0]), np.ptp(energy)  # RK4 at 1 ms: 8e-9 measured; a wrong term: O(1)


@pytest.mark.parametrize("backend", ["drake", "mujoco"])
def test_furuta_swings_up_and_balances_on_both_engines(backend):
    from underact.control import swing_up_and_balance
    from underact.simulate import initial_state, simulate

    plant = underact.load("furuta", backend)
    controller = swing_up_and_balance(plant)
    for seed in range(3):
        q0, v0 = initial_state(plant, seed)
        traj = simulate(plant, controller, q0, v0, 3.0)
        error = (traj.q[-1, 1] - np.pi + np.pi) % (2 * np.pi) - np.pi
        assert abs(error) < 0.02 and np.abs(traj.v[-1]).max() < 0.1, (seed, traj.q[-1], traj.v[-1])
        assert np.abs(traj.u).max() <= plant.u_limit[0] + 1e-12


def test_furuta_simulate_cli_swings_up(tmp_path):
    from underact.cli import main

    assert main(["simulate", "furuta", "--controller", "swingup", "--backend", "mujoco", "--duration", "4",
                 "--out", str(tmp_path / "run")]) == 0
    assert (tmp_path / "run" / "animation.gif").stat().st_size > 0


@pytest.mark.parametrize("env_id", ["underact/FurutaSwingUp-v0", "underact/FurutaBalance-v0"])
def test_furuta_tasks_pass_check_env(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    check_env(env.unwrapped)
    assert env.spec.reward_threshold is not None
    env.reset(seed=0)
    assert env.render().shape == (64, 64, 3)
    vec = gym.make_vec(env_id, num_envs=4, vectorization_mode="vector_entry_point", l2=[0.05, 0.06, 0.07, 0.08])
    obs, _ = vec.reset(seed=0)
    assert obs.shape == (4, 6)


@pytest.mark.parametrize("env_id", ["underact/FurutaSwingUp-v0", "underact/FurutaBalance-v0"])
def test_furuta_reference_controllers_reach_their_thresholds(env_id):
    from underact.envs.reference import evaluate

    returns = evaluate(env_id, episodes=20)
    assert returns.mean() >= gym.spec(env_id).reward_threshold, returns


def test_furuta_analyze_and_crosscheck_cli(capsys):
    from underact.cli import main

    assert main(["analyze", "furuta", "--samples", "5"]) == 0
    assert "underactuated (degree of underactuation 1)" in capsys.readouterr().out
    assert main(["crosscheck", "furuta", "--engines", "analytic,drake,mujoco", "--states", "20", "--atol", "1e-12",
                 "--rtol", "0"]) == 0
    assert "verdict: the engines agree" in capsys.readouterr().out


def test_furuta_bad_parameter_is_one_line():
    with pytest.raises(underact.UnderactError, match="furuta parameter m1 must be finite"):
        underact.load("furuta", "drake", m1=-1.0)


def test_shared_modules_name_no_built_in_system():
    """A built-in is named in its own module, the registry and its own environment module; of the shared modules
    at most two may name one as a string literal (today: the demo's list of what it shows, and one docstring
    example in `underact/__init__.py`)."""
    import re
    from pathlib import Path

    root = Path(underact.__file__).parent.parent
    literal = re.compile(r"""["'](""" + "|".join(systems.BUILTINS) + r""")["']""")
    own = {f"envs/{name}.py" for name in systems.BUILTINS}
    naming = sorted(
        str(path.relative_to(root))
        for folder in ("underact", "envs", "agents")
        for path in (root / folder).rglob("*.py")
        if "systems" not in path.parts and str(path.relative_to(root)) not in own and literal.search(path.read_text())
    )
    assert len(naming) <= 2, naming
