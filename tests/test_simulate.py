"""Simulation on Drake, MuJoCo and the closed-form model: swing-up on the real engines, recorded accelerations
against the closed-form dynamics, engines against each other, the energy balance, and `underact simulate`."""

from __future__ import annotations

import json

import numpy as np
import pytest

import underact
from underact.cli import main
from underact.control import swing_up_and_balance
from underact.simulate import Trajectory, initial_state, near_upright, simulate, summary, time_to_upright

CLOSED_FORM = {name: underact.load(name, "analytic") for name in ("acrobot", "cartpole")}


@pytest.fixture(scope="module", params=["drake", "mujoco"])
def acrobot_run(request):
    """Acrobot swing-up from seed 3, recorded at 1 kHz."""
    plant = underact.load("acrobot", request.param)
    controller = swing_up_and_balance(plant)
    return plant, simulate(plant, controller, *initial_state(plant, 3), 7.0, record_dt=0.001)


def test_acrobot_swings_up_and_stays_on_the_engine(acrobot_run):
    plant, traj = acrobot_run
    s = summary(plant, traj, "swingup")
    assert s["upright"] and s["time_to_upright"] < 5.0
    assert s["max_abs_u"] <= 20.0 + 1e-9
    assert abs(s["energy_error"]) < 1e-2
    np.testing.assert_allclose(np.diff(traj.t), 0.001, atol=1e-9)


def test_recorded_accelerations_obey_the_closed_form_model(acrobot_run):
    """Finite differences of the recorded v against M⁻¹(τg − Cv − b v + B u) of the closed form, under recorded u.

    MuJoCo holds u over each 1 ms step, so the velocity change over a step is compared with the trapezoid of the
    model's accelerations under that u (O(h²)). Drake evaluates u continuously; central differences are compared
    where the recording resolves the input (|Δu| < 1 N·m between samples; elsewhere it jumps at the switch or
    at saturation corners within a millisecond).
    """
    plant, traj = acrobot_run
    model, h = CLOSED_FORM["acrobot"], 0.001
    if plant.backend == "mujoco":
        fd = np.diff(traj.v, axis=0) / h
        held = traj.u[:-1]
        ref = 0.5 * (model.vdot(traj.q[:-1], traj.v[:-1], held) + model.vdot(traj.q[1:], traj.v[1:], held))
    else:
        du = np.abs(np.diff(traj.u[:, 0]))
        smooth = np.maximum(du[:-1], du[1:]) < 1.0
        assert smooth.mean() > 0.95
        fd = ((traj.v[2:] - traj.v[:-2]) / (2 * h))[smooth]
        ref = model.vdot(traj.q[1:-1], traj.v[1:-1], traj.u[1:-1])[smooth]
    assert np.linalg.norm(fd - ref) / np.linalg.norm(ref) < 0.01


#: One controller object, built on the closed-form terms, drives both engines below.
CARTPOLE_CONTROLLER = swing_up_and_balance(CLOSED_FORM["cartpole"])


@pytest.mark.parametrize("backend", ["drake", "mujoco"])
def test_cartpole_swings_up_on_the_engine(backend):
    plant = underact.load("cartpole", backend)
    traj = simulate(plant, CARTPOLE_CONTROLLER, *initial_state(plant, 0), 4.5)
    s = summary(plant, traj, "swingup")
    assert s["upright"] and s["time_to_upright"] < 2.5
    model = CLOSED_FORM["cartpole"]
    fd = (traj.v[2:] - traj.v[:-2]) / 0.02  # 100 Hz; the cart-pole's input is smooth
    ref = model.vdot(traj.q[1:-1], traj.v[1:-1], traj.u[1:-1])
    assert np.linalg.norm(fd - ref) / np.linalg.norm(ref) < 0.01


def test_passive_motion_agrees_across_engines_and_loses_energy_to_damping():
    """No input from x0 = (1, 0.5, 0, 0): the three engines agree, and E(t) − E(0) = −∫ b v² dt."""
    zero = lambda t, q, v: np.zeros(np.shape(q)[:-1] + (1,))  # noqa: E731
    runs = {b: simulate(underact.load("acrobot", b), zero, [1.0, 0.5], [0.0, 0.0], 2.0) for b in underact.BACKENDS}
    for backend in ("drake", "mujoco"):
        np.testing.assert_allclose(runs[backend].q, runs["analytic"].q, atol=1e-4)
    traj = runs["drake"]
    model = CLOSED_FORM["acrobot"]
    energy = model.energy(traj.q, traj.v)
    power = -(model.b * traj.v**2).sum(axis=1)
    dissipated = np.concatenate([[0.0], np.cumsum(0.5 * (power[1:] + power[:-1]) * np.diff(traj.t))])
    assert energy[-1] < energy[0] - 0.1
    np.testing.assert_allclose(energy - energy[0], dissipated, atol=2e-3 * abs(energy[0]))


def test_time_to_upright_on_a_made_up_trajectory():
    plant = CLOSED_FORM["cartpole"]
    t = np.arange(0, 5.001, 0.01)
    theta = np.where(t < 2.0, 0.0, np.pi + 0.01)
    q = np.stack([5.0 + 0 * t, theta], axis=1)  # the cart's position does not matter
    v = np.zeros_like(q)
    traj = Trajectory(t, q, v, np.zeros((len(t), 1)))
    assert time_to_upright(plant, traj) == pytest.approx(2.0)
    assert near_upright(plant, q, v).sum() == (t >= 2.0).sum()
    late = Trajectory(t, np.stack([0 * t, np.where(t < 3.5, 0.0, np.pi)], axis=1), v, traj.u)
    assert time_to_upright(plant, late) is None  # upright for 1.5 s only


def test_cli_writes_trajectory_plot_gif_and_json(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["simulate", "cartpole", "--backend", "analytic", "--duration", "4.5", "--out", str(out), "--json"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    s = json.loads(lines[-1])
    assert list(s) == [
        "system",
        "backend",
        "controller",
        "upright",
        "time_to_upright",
        "final_q",
        "final_v",
        "max_abs_u",
        "energy_error",
    ]
    assert s["upright"] and s["system"] == "cartpole" and s["controller"] == "swingup"
    with np.load(out / "trajectory.npz") as z:
        assert z["t"].shape == (451,) and z["q"].shape == (451, 2) and z["v"].shape == (451, 2)
        assert z["u"].shape == (451, 1)
        np.testing.assert_allclose(z["q"][-1], s["final_q"])
    from PIL import Image

    assert (out / "plot.png").stat().st_size > 10_000
    assert 0 < (out / "animation.gif").stat().st_size < 2_000_000
    with Image.open(out / "animation.gif") as gif:
        assert gif.n_frames == 91  # 20 frames per simulated second, both ends included
        assert gif.info["duration"] == 50 and gif.size == (320, 160)  # real time; the cart-pole's whole rail
    assert not list(out.glob(".*.tmp"))


@pytest.mark.parametrize("fps, duration", [(50, 20), (20, 50), (15, 70), (100, 20)])
def test_gif_writer_plays_at_the_frame_rate_it_is_given(tmp_path, fps, duration):
    """GIF frame times are hundredths of a second: 1/fps rounded to 10 ms, at least 20 ms."""
    from PIL import Image

    from underact.render import write_gif

    frames = np.zeros((3, 12, 16, 3), dtype=np.uint8)
    frames[1, 4:8, 6:10] = (205, 75, 50)
    write_gif(tmp_path / "a.gif", list(frames), fps)
    with Image.open(tmp_path / "a.gif") as gif:
        assert gif.n_frames == 3 and gif.size == (16, 12) and gif.info["duration"] == duration
        gif.seek(1)
        np.testing.assert_array_equal(np.asarray(gif.convert("RGB"))[5, 7], (205, 75, 50))
    assert [p.name for p in tmp_path.iterdir()] == ["a.gif"]  # no temporary file left


def test_gif_writer_failure_names_the_file_and_leaves_it_as_it_was(tmp_path):
    from underact.render import write_gif

    (tmp_path / "a.gif").write_bytes(b"old")
    with pytest.raises(ValueError, match="fps must be a positive number"):
        write_gif(tmp_path / "a.gif", [np.zeros((4, 4, 3), np.uint8)], 0.0)
    with pytest.raises(OSError) as info:
        write_gif(tmp_path / "missing" / "a.gif", [np.zeros((4, 4, 3), np.uint8)], 20)
    assert info.value.filename == str(tmp_path / "missing" / "a.gif")
    assert (tmp_path / "a.gif").read_bytes() == b"old"


def test_cli_pinv_reports_the_residual(capsys):
    assert main(["simulate", "acrobot", "--controller", "pinv", "--backend", "analytic", "--duration", "1"]) == 0
    assert "residual" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["simulate", "unicycle"], "argument SYSTEM: invalid choice: 'unicycle'"),
        (["simulate", "acrobot", "--controller", "mpc"], "argument --controller: invalid choice: 'mpc'"),
        (["simulate", "acrobot", "--backend", "bullet"], "argument --backend: invalid choice: 'bullet'"),
        (["simulate", "acrobot", "--x0", "0.1,0,0"], "needs 4 comma-separated numbers"),
        (["simulate", "acrobot", "--x0", "0.1,zero,0,0"], "argument --x0: must be comma-separated numbers"),
        (["simulate", "acrobot", "--x0", "nan,0,0,0"], "argument --x0: values must be finite"),
        (["simulate", "acrobot", "--duration", "-1"], "argument --duration: must be a number of seconds in (0, 600]"),
        (["simulate", "acrobot", "--seed", "x"], "argument --seed: must be a non-negative integer; got 'x'"),
        (["simulate", "pendulum", "--controller", "swingup"], "swingup exists for acrobot, cartpole, furuta"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors, a bad argument type's included
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("underact: error: ") and message in err and err.count("\n") == 1
