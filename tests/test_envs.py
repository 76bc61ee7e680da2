"""Single environments: dynamics against an independent closed form, backends against each other, Gymnasium's
checker, seeding, resets, bad actions, termination and rendering."""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import underact.envs  # noqa: F401 - registers the ids
from underact import load

IDS = list(underact.envs.ENV_IDS)
G = 9.81


# Independent closed forms, written from Tedrake's "Underactuated Robotics" ch. 3 (eqs. 3.1-3.3, 3.16-3.18)
# with scalar Python maths and a dense solve, on purpose unlike the environments' vectorised explicit inverse.
def acrobot_xdot(x, u, m1=1.0, m2=1.0, l1=1.0, l2=2.0, lc1=0.5, lc2=1.0, Ic1=0.083, Ic2=0.33, b1=0.1, b2=0.1):
    t1, t2, d1, d2 = x
    I1, I2 = Ic1 + m1 * lc1**2, Ic2 + m2 * lc2**2
    M = np.array(
        [
            [I1 + I2 + m2 * l1**2 + 2 * m2 * l1 * lc2 * math.cos(t2), I2 + m2 * l1 * lc2 * math.cos(t2)],
            [I2 + m2 * l1 * lc2 * math.cos(t2), I2],
        ]
    )
    C = np.array(
        [
            [-2 * m2 * l1 * lc2 * math.sin(t2) * d2, -m2 * l1 * lc2 * math.sin(t2) * d2],
            [m2 * l1 * lc2 * math.sin(t2) * d1, 0.0],
        ]
    )
    tau_g = np.array(
        [
            -m1 * G * lc1 * math.sin(t1) - m2 * G * (l1 * math.sin(t1) + lc2 * math.sin(t1 + t2)),
            -m2 * G * lc2 * math.sin(t1 + t2),
        ]
    )
    v = np.array([d1, d2])
    acc = np.linalg.solve(M, tau_g - C @ v - np.array([b1, b2]) * v + np.array([0.0, 1.0]) * u)
    return np.array([d1, d2, acc[0], acc[1]])


def cartpole_xdot(x, u, mc=10.0, mp=1.0, l=0.5):
    _, th, xd, thd = x
    s, c = math.sin(th), math.cos(th)
    xdd = (u + mp * s * (l * thd**2 + G * c)) / (mc + mp * s**2)  # Tedrake eq. 3.18
    thdd = (-u * c - mp * l * thd**2 * c * s - (mc + mp) * G * s) / (l * (mc + mp * s**2))
    return np.array([xd, thd, xdd, thdd])


def furuta_xdot(x, u, m1=0.095, L1=0.085, l1=0.0425, m2=0.024, l2=0.0645, J1zz=0.095 * 0.085**2 / 12,
                J2xx=0.024 * 0.129**2 / 12, J2yy=0.024 * 0.129**2 / 12, J2zz=0.5 * 0.024 * 0.0045**2):
    """Cazzolato & Prime (2011), eqs. 33-35 with the pendulum hanging at θ2 = 0, written from the Lagrangian
    T = ½ (J1zz + m1 l1²) θ̇1² + ½ m2 |v_c2|² + ½ (J2xx θ̇2² + J2yy (θ̇1 sin θ2)² + J2zz (θ̇1 cos θ2)²)."""
    _, t2, d1, d2 = x
    s, c = math.sin(t2), math.cos(t2)
    M = np.array([[J1zz + m1 * l1**2 + m2 * (L1**2 + l2**2 * s * s) + J2yy * s * s + J2zz * c * c, m2 * L1 * l2 * c],
                  [m2 * L1 * l2 * c, J2xx + m2 * l2**2]])
    k = (m2 * l2**2 + J2yy - J2zz) * s * c  # ½ ∂M11/∂θ2
    Cv = np.array([2 * k * d1 * d2 - m2 * L1 * l2 * s * d2**2, -k * d1**2])
    acc = np.linalg.solve(M, np.array([u, -m2 * G * l2 * s]) - Cv)
    return np.array([d1, d2, acc[0], acc[1]])


def rk4(f, x, u, dt, n):
    h = dt / n
    for _ in range(n):
        k1 = f(x, u)
        k2 = f(x + h / 2 * k1, u)
        k3 = f(x + h / 2 * k2, u)
        k4 = f(x + h * k3, u)
        x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return x


REFERENCE = {"acrobot": (acrobot_xdot, 0.05, 2), "cartpole": (cartpole_xdot, 0.02, 1), "furuta": (furuta_xdot, 0.01, 2)}


def _system(env_id):
    return underact.envs.ENV_IDS[env_id][0]


@pytest.mark.parametrize("env_id", IDS)
def test_steps_equal_independent_rk4_of_the_closed_form(env_id):
    f, dt, substeps = REFERENCE[_system(env_id)]
    env = gym.make(env_id)
    assert env.unwrapped.dt == dt
    env.reset(seed=1)
    x = env.unwrapped.state
    rng = np.random.default_rng(0)
    for _ in range(40):
        u = rng.uniform(-1, 1) * env.action_space.high[0] * 0.2
        obs, *_ = env.step(np.array([u], dtype=np.float32))
        x = rk4(f, x, float(np.float32(u)), dt, substeps)
        np.testing.assert_allclose(env.unwrapped.state, x, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(obs[-2:], x[2:].astype(np.float32), rtol=1e-6)


@pytest.mark.parametrize("system", ["acrobot", "cartpole"])
def test_env_step_size_is_accurate(system):
    """One environment step agrees with a 100-times finer RK4 of the same model at swing-up speeds."""
    f, dt, substeps = REFERENCE[system]
    x0 = np.array([0.3, 2.0, 4.0, -6.0]) if system == "acrobot" else np.array([0.0, 2.0, 2.0, 6.0])
    coarse = rk4(f, x0, 5.0, dt, substeps)
    fine = rk4(f, x0, 5.0, dt, 100 * substeps)
    assert np.abs(coarse - fine).max() < 2e-5


def test_acrobot_without_damping_conserves_energy():
    """Textbook check: with b = 0 and no input the total energy of the env's trajectory stays constant."""
    env = gym.make("underact/AcrobotSwingUp-v0", b1=0.0, b2=0.0, max_episode_steps=None)
    env.reset(options={"state": [1.5, -0.5, 0.0, 0.0]})
    plant = load("acrobot", backend="analytic", b1=0.0, b2=0.0)
    x = env.unwrapped.state
    e0 = plant.energy(x[:2], x[2:])
    for _ in range(200):  # 10 s
        env.step(np.zeros(1, dtype=np.float32))
    x = env.unwrapped.state
    assert abs(plant.energy(x[:2], x[2:]) - e0) < 1e-3 * abs(e0)


@pytest.mark.parametrize("backend", ["drake", "mujoco"])
@pytest.mark.parametrize("env_id", IDS)
def test_engine_backends_equal_analytic(env_id, backend):
    envs = {b: gym.make(env_id, backend=b) for b in ("analytic", backend)}
    for env in envs.values():
        env.reset(seed=3)
    rng = np.random.default_rng(3)
    for _ in range(15):
        u = np.array([rng.uniform(-5, 5)], dtype=np.float32)
        out = {b: env.step(u) for b, env in envs.items()}
        np.testing.assert_allclose(out[backend][0], out["analytic"][0], atol=1e-6)
        assert out[backend][1] == pytest.approx(out["analytic"][1], abs=1e-9)
    np.testing.assert_allclose(envs[backend].unwrapped.state, envs["analytic"].unwrapped.state, atol=1e-9)


def test_changed_bodies_and_damaged_actuator():
    """make() kwargs reach the physics: mujoco agrees with analytic, analytic with the independent closed form."""
    params = {"l": 1.0, "mc": 5.0, "mp": 2.0, "actuator_gain": 0.5}
    x0 = np.array([0.0, math.pi - 0.1, 0.2, 0.0])
    envs = [gym.make("underact/CartPoleBalance-v0", backend=b, b_x=0.3, **params) for b in ("analytic", "mujoco")]
    for env in envs:
        env.reset(options={"state": x0})
    for _ in range(20):
        a, m = (env.step(np.array([8.0], dtype=np.float32))[0] for env in envs)
        np.testing.assert_allclose(m, a, atol=1e-6)
    env = gym.make("underact/CartPoleBalance-v0", **params)
    env.reset(options={"state": x0})
    x = x0
    for _ in range(20):
        env.step(np.array([8.0], dtype=np.float32))
        x = rk4(lambda x, u: cartpole_xdot(x, u, mc=5.0, mp=2.0, l=1.0), x, 4.0, 0.02, 1)  # gain 0.5 × 8 N
    np.testing.assert_allclose(env.unwrapped.state, x, atol=1e-10)


@pytest.mark.parametrize("backend", ["analytic", "drake", "mujoco"])
@pytest.mark.parametrize("env_id", IDS)
def test_gymnasium_env_checker_passes(env_id, backend):
    env = gym.make(env_id, backend=backend, render_mode="rgb_array")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unbounded velocities and the force-valued action box are by design
        check_env(env.unwrapped)


@pytest.mark.parametrize("env_id", IDS)
def test_seeded_runs_are_reproducible(env_id):
    def run(seed):
        env = gym.make(env_id)
        env.action_space.seed(seed)
        obs, _ = env.reset(seed=seed)
        trace = [obs]
        for _ in range(30):
            trace.append(env.step(env.action_space.sample())[0])
        return np.array(trace)

    np.testing.assert_array_equal(run(7), run(7))
    assert not np.array_equal(run(7)[0], run(8)[0])


def test_start_states_follow_the_task():
    for env_id in IDS:
        system, task = underact.envs.ENV_IDS[env_id]
        env = gym.make(env_id)
        env.reset(seed=0)
        upright = {"acrobot": [math.pi, 0.0], "cartpole": [0.0, math.pi], "furuta": [0.0, math.pi]}[system]
        goal = upright if task == "balance" else [0, 0]
        x = env.unwrapped.state
        assert np.all(np.abs(x - np.r_[goal, 0.0, 0.0]) <= 0.05)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_action_raises_and_keeps_the_state(bad):
    env = gym.make("underact/AcrobotSwingUp-v0")
    env.reset(seed=0)
    before = env.unwrapped.state
    with pytest.raises(ValueError, match=str(bad)):
        env.step(np.array([bad], dtype=np.float32))
    np.testing.assert_array_equal(env.unwrapped.state, before)


def test_out_of_range_actions_saturate():
    a, b = gym.make("underact/CartPoleSwingUp-v0"), gym.make("underact/CartPoleSwingUp-v0")
    a.reset(seed=0)
    b.reset(seed=0)
    a.step(np.array([1e6], dtype=np.float32))
    b.step(np.array([200.0], dtype=np.float32))
    np.testing.assert_array_equal(a.unwrapped.state, b.unwrapped.state)


def test_reset_with_state():
    env = gym.make("underact/AcrobotSwingUp-v0")
    x0 = [0.4, -1.2, 0.5, 2.0]
    obs, _ = env.reset(options={"state": x0})
    np.testing.assert_array_equal(env.unwrapped.state, x0)
    expected = [math.cos(0.4), math.sin(0.4), math.cos(-1.2), math.sin(-1.2), 0.5, 2.0]
    np.testing.assert_allclose(obs, expected, rtol=1e-6)
    with pytest.raises(ValueError, match="4 numbers"):
        env.reset(options={"state": [0.0, 1.0]})
    with pytest.raises(ValueError, match="finite"):
        env.reset(options={"state": [0.0, float("nan"), 0.0, 0.0]})


def test_rewards_termination_and_truncation():
    up = gym.make("underact/AcrobotSwingUp-v0")
    up.reset(options={"state": [math.pi, 0.0, 0.0, 0.0]})
    assert up.step(np.zeros(1, dtype=np.float32))[1] == pytest.approx(1.0, abs=1e-9)
    hang = gym.make("underact/CartPoleSwingUp-v0")
    hang.reset(options={"state": [0.0, 0.0, 0.0, 0.0]})
    assert hang.step(np.zeros(1, dtype=np.float32))[1] == pytest.approx(0.0, abs=1e-12)
    side = gym.make("underact/CartPoleSwingUp-v0")
    side.reset(options={"state": [0.0, math.pi / 2, 0.0, 0.0]})
    assert side.step(np.zeros(1, dtype=np.float32))[1] == pytest.approx(0.5, abs=0.02)

    fallen = gym.make("underact/CartPoleBalance-v0")
    fallen.reset(options={"state": [0.0, math.pi + 0.25, 0.0, 0.0]})
    assert fallen.step(np.zeros(1, dtype=np.float32))[2]
    off_rail = gym.make("underact/CartPoleSwingUp-v0")
    off_rail.reset(options={"state": [2.39, 0.0, 1.0, 0.0]})
    assert off_rail.step(np.zeros(1, dtype=np.float32))[2]
    # Acrobot balance ends when the tip's height (−l1 cos θ1 − l2 cos(θ1+θ2)) / (l1 + l2) < cos(1.0): a bent elbow
    # alone (θ2 = 1: h = (1 + 2 cos 1) / 3 = 0.69) does not end it, a leaning (h = cos 1.2) or folded one does.
    for state, ends in [([math.pi, 1.0], False), ([math.pi + 1.2, 0.0], True), ([math.pi, math.pi], True)]:
        acro = gym.make("underact/AcrobotBalance-v0")
        acro.reset(options={"state": [*state, 0.0, 0.0]})
        assert acro.step(np.zeros(1, dtype=np.float32))[2] == ends, state

    env = gym.make("underact/AcrobotSwingUp-v0")
    env.reset(seed=0)
    flags = [env.step(np.zeros(1, dtype=np.float32))[3] for _ in range(500)]
    assert flags[-1] and not any(flags[:-1])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"backend": "bullet"}, "backend must be one of"),
        ({"backend": "drake", "l1": 2.0}, "fixed"),
        ({"lenght": 1.0}, "unknown AcrobotParams"),
        ({"m1": -1.0}, "m1 must be"),
        ({"actuator_gain": float("nan")}, "actuator_gain"),
        ({"render_mode": "human"}, "render_mode"),
        ({"task": "juggle"}, "task must be one of"),
    ],
)
def test_bad_arguments_raise_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        underact.envs.AcrobotEnv(**kwargs)


@pytest.mark.parametrize("frame", [{"width": "a"}, {"width": 2.5}, {"height": True}, {"width": 4}, {"height": 10**9}])
def test_frame_sizes_are_whole_pixels_within_bounds_for_single_and_vector_envs(frame):
    """A frame side is an int from 8 to 4096 in both environments (a billion rows tried to allocate 179 GiB at the
    first render); refused when the environment is made, before any frame is drawn."""
    for make in (gym.make, lambda env_id, **kw: gym.make_vec(env_id, 2, vectorization_mode="vector_entry_point", **kw)):
        with pytest.raises(ValueError, match=r"whole numbers of pixels from 8 to 4096"):
            make("underact/AcrobotSwingUp-v0", render_mode="rgb_array", **frame)
    env = gym.make("underact/AcrobotSwingUp-v0", render_mode="rgb_array", width=np.int64(8), height=4096)
    env.reset(seed=0)
    assert env.render().shape == (4096, 8, 3)


WHITE = [255, 255, 255]


def test_acrobot_frame_shows_links_where_they_are():
    """96 × 80 frame, shoulder at the centre (col 48, row 40), 80 / (2 · 1.1 · 3 m) = 12.1 px per metre, y up."""
    env = gym.make("underact/AcrobotSwingUp-v0", render_mode="rgb_array", width=96, height=80)
    upper, lower = env.unwrapped.task.colors[:2]
    env.reset(options={"state": [0.0, 0.0, 0.0, 0.0]})  # hanging
    frame = env.render()
    assert frame.shape == (80, 96, 3) and frame.dtype == np.uint8
    np.testing.assert_array_equal(frame[47, 48], upper)  # 0.6 m below the shoulder
    np.testing.assert_array_equal(frame[64, 48], lower)  # 2 m below
    np.testing.assert_array_equal(frame[20, 48], WHITE)  # nothing above
    env.reset(options={"state": [math.pi, 0.0, 0.0, 0.0]})  # upright
    frame = env.render()
    np.testing.assert_array_equal(frame[16, 48], lower)
    np.testing.assert_array_equal(frame[60, 48], WHITE)
    env.reset(options={"state": [math.pi / 2, 0.0, 0.0, 0.0]})  # θ1 = π/2: the arm points along +x, to the right
    frame = env.render()
    np.testing.assert_array_equal(frame[40, 72], lower)
    np.testing.assert_array_equal(frame[40, 24], WHITE)


def test_cartpole_frame_shows_cart_and_pole_where_they_are():
    """256 × 128 frame: the rail ±2.4 m plus margins spans 6 m, 42.7 px per metre, origin at col 128, row 64."""
    env = gym.make("underact/CartPoleBalance-v0", render_mode="rgb_array", width=256, height=128)
    cart, pole = env.unwrapped.task.colors[-3:-1]  # rail, its ticks, cart, pole, pin
    env.reset(options={"state": [1.0, math.pi, 0.0, 0.0]})  # cart at x = 1 m (col 170.7), pole up
    frame = env.render()
    np.testing.assert_array_equal(frame[46, 170], pole)  # 0.4 m above the pin
    np.testing.assert_array_equal(frame[81, 170], WHITE)  # 0.4 m below it
    np.testing.assert_array_equal(frame[46, 85], WHITE)  # mirror side, x = -1 m
    np.testing.assert_array_equal(frame[64, 179], cart)  # cart body, x = 1.2 m


@pytest.mark.parametrize("env_id", ["underact/AcrobotSwingUp-v0", "underact/CartPoleSwingUp-v0"])
def test_environment_frames_are_the_built_in_scene_of_the_one_renderer(env_id):
    """An environment draws its plant's `underact.render` scene (the one `underact simulate` animates): the same
    pixels for the same configuration, at the environment's size and at its video size."""
    from underact.plants.analytic import PARAMS
    from underact.render import builtin_scene

    env = gym.make(env_id, render_mode="rgb_array", width=72, height=56)
    system = env.unwrapped.task
    assert not hasattr(env.unwrapped, "system")  # the task's former name is gone
    scene = builtin_scene(system.name, PARAMS[system.name]())
    env.reset(options={"state": [0.4, 2.5, 0.0, 0.0]})
    q = env.unwrapped.state[None, :2]
    np.testing.assert_array_equal(env.render(), scene.render(q, 72, 56)[0])
    width, height = system.scene_size
    assert (width, height) == scene.size
    video = system.render(env.unwrapped.state[None], width, height, fixed_camera=True)[0]
    np.testing.assert_array_equal(video, scene.render(q, width, height)[0])


def _dense_capsules(view, segments, radii, colors):
    """Reference rasteriser: every capsule's coverage at every pixel centre, composited in order, in float64."""
    cols = np.arange(view.width) + 0.5
    rows = np.arange(view.height) + 0.5
    frames = []
    for scene in segments:
        image = np.full((view.height, view.width, 3), 255.0)
        for (a, b), radius, color in zip(view.to_pixels(scene), radii, colors, strict=True):
            if not np.all(np.isfinite([a, b])):
                continue
            d = np.stack(np.meshgrid(cols, rows), axis=-1) - a  # (H, W, 2) from the first end point
            ab = b - a
            t = np.clip(d @ ab / max(ab @ ab, 1e-12), 0.0, 1.0)
            alpha = np.clip(radius + 0.5 - np.linalg.norm(d - t[..., None] * ab, axis=-1), 0.0, 1.0)
            image += alpha[..., None] * (color - image)
        frames.append(np.rint(image))
    return np.array(frames)


def test_capsule_rasteriser_matches_a_dense_reference():
    """Random capsules (some off-screen, some degenerate, one with a NaN end): the bounding-box loop draws what a
    dense evaluation of every pixel draws, to one grey level (float32 vs float64 rounding)."""
    from underact.render import View, draw_capsules

    rng = np.random.default_rng(0)
    view = View((0.2, -0.1), 9.0, 40, 30)
    segments = rng.uniform(-3.0, 3.0, size=(12, 5, 2, 2))
    segments[0, 1, 1] = segments[0, 1, 0]  # a dot
    segments[1, 2] += 20.0  # far off-screen
    segments[2, 3, 0, 0] = np.nan  # skipped
    radii = np.array([0.5, 1.0, 2.5, 0.8, 4.0])
    colors = rng.uniform(0, 255, size=(5, 3))
    frames = draw_capsules(view, segments, radii, colors)
    reference = _dense_capsules(view, segments, radii, colors)
    assert frames.dtype == np.uint8 and frames.shape == (12, 30, 40, 3)
    assert np.abs(frames - reference).max() <= 1
    assert (frames != 255).mean() > 0.1  # the scenes are not blank
    with pytest.raises(ValueError, match="radii must have shape"):
        draw_capsules(view, segments, radii[:4], colors)
