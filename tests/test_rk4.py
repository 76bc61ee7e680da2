"""One closed form, one RK4: the compiled environment kernels against their plain-numpy oracle and the plant."""

import gymnasium as gym
import numpy as np
import pytest

import underact.envs  # noqa: F401 - registers the ids
from tests._adapters import step_all, step_batch, step_one
from underact import load
from underact.envs.packed import counter_uniform, numpy_step
from underact.plants.analytic import acrobot_vdot, cartpole_vdot
from underact.simulate.rk4 import rk4_components, rk4_step

IDS = ["underact/AcrobotSwingUp-v0", "underact/AcrobotBalance-v0", "underact/CartPoleSwingUp-v0",
       "underact/CartPoleBalance-v0"]


def _states(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 4)) * [1.5, 2.0, 3.0, 3.0]


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("per_copy", [False, True])
def test_compiled_batch_matches_the_numpy_oracle(env_id, per_copy):
    n = 300
    kwargs = {("m1" if "Acrobot" in env_id else "mp"): np.linspace(0.5, 2.0, n)} if per_copy else {}
    system = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", **kwargs).unwrapped.task
    x, u = _states(n), np.random.default_rng(1).uniform(-20, 20, n)
    nxt, obs, reward, terminated = step_all(system, x, u)
    oracle = system.kernel.numpy(x, u)
    np.testing.assert_allclose(nxt, oracle, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(obs, system.observe(oracle), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(reward, system.reward(oracle), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(terminated, system.terminated(oracle))


@pytest.mark.parametrize("env_id", ["underact/AcrobotSwingUp-v0", "underact/CartPoleSwingUp-v0"])
def test_thread_counts_give_bitwise_equal_batches(env_id):
    system = gym.make_vec(env_id, num_envs=1, vectorization_mode="vector_entry_point").unwrapped.task
    x, u = _states(4096, 2), np.random.default_rng(3).uniform(-20, 20, 4096)
    one, two = step_all(system, x, u, threads=1), step_all(system, x, u, threads=2)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("env_id", ["underact/AcrobotSwingUp-v0", "underact/CartPoleSwingUp-v0"])
def test_single_step_equals_the_batch(env_id):
    system = gym.make(env_id).unwrapped.task
    x, u = _states(5, 4), np.linspace(-5, 5, 5)
    nxt, obs, reward, terminated = step_all(system, x, u)
    for i in range(5):
        xi, oi, ri, ti = step_one(system, x[i], float(u[i]))
        np.testing.assert_array_equal(xi, nxt[i])
        np.testing.assert_array_equal(oi, obs[i])
        assert (ri, ti) == (reward[i], terminated[i])


@pytest.mark.parametrize("name,vdot", [("acrobot", acrobot_vdot), ("cartpole", cartpole_vdot)])
def test_closed_form_on_floats_arrays_and_plant_agree(name, vdot):
    """The one closed form: float and array evaluations equal; Plant.vdot reads it; the general solve agrees."""
    plant = load(name, backend="analytic")
    q, v, u = _states(50, 5)[:, :2], _states(50, 6)[:, 2:], np.linspace(-10, 10, 50)
    batch = np.stack(vdot(q[:, 0], q[:, 1], v[:, 0], v[:, 1], u, plant.constants), axis=1)
    floats = [vdot(*map(float, (*q[i], *v[i], u[i])), plant.constants) for i in range(50)]
    np.testing.assert_array_equal(batch, np.array(floats, dtype=np.float64))
    np.testing.assert_array_equal(plant.vdot(q, v, u[:, None]), batch)
    t = plant.terms(q, v)
    rhs = t.tau_g - t.Cv + plant.damping(v) + t.B[..., 0] * u[:, None]
    np.testing.assert_allclose(batch, np.linalg.solve(t.M, rhs[..., None])[..., 0], rtol=1e-12, atol=1e-12)


def test_component_rk4_is_the_rk4_step_tableau():
    plant = load("acrobot", backend="analytic")
    x, u = _states(20, 7), np.linspace(-3, 3, 20)
    comps = np.stack(rk4_components(acrobot_vdot, *x.T, u, plant.constants, 0.01, 3), axis=1)
    q, v = x[:, :2], x[:, 2:]
    for _ in range(3):
        q, v = rk4_step(lambda qs, vs: plant.vdot(qs, vs, u[:, None]), q, v, 0.01)
    np.testing.assert_allclose(comps, np.concatenate([q, v], axis=1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("env_id", IDS)
def test_the_whole_compiled_vector_step_matches_its_numpy_oracle(env_id):
    """Clipping, gains per copy, copies restarting (done), step counts, time limit and flags: compiled == numpy."""
    n = 700
    task = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point").unwrapped.task
    rng = np.random.default_rng(7)
    x = np.ascontiguousarray(_states(n, 8).T)
    u = rng.uniform(-3, 3, (n, 1)) * task.u_limit  # most beyond the limit: clipped
    u[5, 0], u[6, 0], u[7, 0] = np.nan, np.inf, -np.inf  # refused for live copies, ignored for done ones
    done = rng.random(n) < 0.2
    done[[5, 7, 9]], done[6] = False, True
    x[:, 9] = [1e12, 0.0, 0.0, 0.0]  # out of bounds already: flagged unless done
    steps = rng.integers(0, 500, n)
    gain = rng.uniform(0.0, 1.5, n)
    key, episodes = 12345, rng.integers(0, 1000, n)
    compiled = step_batch(task, x, u.astype(np.float32), gain, done, steps, 500, key, episodes)
    oracle = numpy_step(task, x, u.astype(np.float32), gain, done, steps, 500, key, episodes)
    live = ~done & np.isfinite(u[:, 0])
    live[9] = False  # a 1e12 rad angle: beyond the polynomial sine's exact range (and flagged)
    np.testing.assert_allclose(compiled[0][:, live], oracle[0][:, live], rtol=1e-12, atol=1e-12)
    # restarted copies: the same start states as the oracle's, inside the start distribution's box
    np.testing.assert_array_equal(compiled[0][:, done], oracle[0][:, done])
    centre, noise = np.array(task.restart[:4]), task.restart[4]
    assert np.all(np.abs(compiled[0][:, done] - centre[:, None]) <= noise)
    np.testing.assert_array_equal(compiled[7], episodes + done)
    other = np.arange(n) != 9
    np.testing.assert_allclose(compiled[1][other], oracle[1][other], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(compiled[2][other], oracle[2][other], rtol=1e-12, atol=1e-12)  # rewards
    for got, want in zip(compiled[3:9], oracle[3:9], strict=True):
        np.testing.assert_array_equal(got[other], want[other])
    flags = compiled[8]
    assert compiled[9] == oracle[9] == np.count_nonzero(flags)
    assert flags[5] == flags[7] == 1 and flags[6] == 0 and flags[9] == 2  # BAD_ACTION, done, UNBOUNDED
    assert (compiled[5][done] == 0).all() and (compiled[5][~done] == steps[~done] + 1).all()
    assert not compiled[3][done].any() and (compiled[2][done] == 0).all()
    assert compiled[4][~done].tolist() == (steps[~done] + 1 >= 500).tolist()


@pytest.mark.parametrize("threads", [1, 2])
def test_cartpole_balance_falls_exactly_when_the_wrapped_angle_exceeds_fall_angle(threads):
    """The branch-free rule −cos θ < cos(fall_angle) against the wrapped angle itself, far from the boundary."""
    vec = gym.make_vec("underact/CartPoleBalance-v0", num_envs=1, vectorization_mode="vector_entry_point")
    task = vec.unwrapped.task
    theta = np.linspace(-30, 30, 60_001)
    wrapped = np.abs((theta - np.pi + np.pi) % (2 * np.pi) - np.pi)
    keep = np.abs(wrapped - task.fall_angle) > 1e-9
    x = np.stack([np.zeros_like(theta), theta, np.zeros_like(theta), np.zeros_like(theta)], 1)[keep]
    terminated = step_all(task, x, np.zeros(len(x)), threads=threads)[3]
    after = step_all(task, x, np.zeros(len(x)), threads=threads)[0][:, 1]  # where the step ended
    wrapped_after = np.abs((after - np.pi + np.pi) % (2 * np.pi) - np.pi)
    np.testing.assert_array_equal(terminated, wrapped_after > task.fall_angle)


def test_restart_noise_is_uniform_and_independent_of_copy_and_episode():
    """counter_uniform (the in-kernel start-state noise): moments and correlations of U(0, 1), for copy/episode
    neighbours too, compiled equal to numpy bit for bit."""
    copies, episodes = np.meshgrid(np.arange(2000, dtype=np.uint64), np.arange(50, dtype=np.uint64))
    u = counter_uniform(np.uint64(7), copies, episodes, np.uint64(1))
    assert 0.0 <= u.min() and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    assert abs(np.corrcoef(u[:, :-1].ravel(), u[:, 1:].ravel())[0, 1]) < 0.02  # neighbouring copies
    assert abs(np.corrcoef(u[:-1].ravel(), u[1:].ravel())[0, 1]) < 0.02  # successive episodes
    counts = np.histogram(u, bins=20, range=(0, 1))[0]
    assert counts.min() > 0.9 * u.size / 20 and counts.max() < 1.1 * u.size / 20

    import numba

    compiled = numba.njit(lambda k, c, e, r: counter_uniform(k, c, e, r))
    assert compiled(np.uint64(7), np.uint64(1999), np.uint64(49), np.uint64(1)) == u[49, 1999]
