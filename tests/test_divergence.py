"""Blow-ups, bad parameters and bad inputs: every backend refuses the same way, in one line, and never resets.

Divergence raises `DivergenceError` naming the backend, time, step and state (simulators and environments alike);
physical parameters are checked once in `make_params`; the built-in MJCF models are built with `MjSpec`, so no
parameter text reaches an XML parser; `underact simulate` checks its folder before simulating and writes strict
JSON; MuJoCo never writes MUJOCO_LOG.TXT into the working directory.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

import gymnasium as gym
import numpy as np
import pytest

import underact
import underact.envs  # noqa: F401 - registers the environments
from underact.cli import main
from underact.cli.simulate import json_line
from underact.errors import DivergenceError, UnderactError
from underact.plants.analytic import AcrobotParams
from underact.plants.builtin_mjcf import SPECS
from underact.simulate import simulate

BACKENDS = ("analytic", "mujoco", "drake")
HUGE = [0.0, 0.0, 1e12, 0.0]


def zero(t, q, v):
    return np.zeros(np.shape(q)[:-1] + (1,))


def nan_after(t0: float):
    def controller(t, q, v):
        return np.full(np.shape(q)[:-1] + (1,), np.nan if t >= t0 else 0.0)

    return controller


@pytest.mark.parametrize("backend", BACKENDS)
def test_env_step_from_a_huge_state_raises_divergence_and_keeps_the_state(backend, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MuJoCo would write MUJOCO_LOG.TXT here
    env = gym.make("underact/AcrobotSwingUp-v0", backend=backend)
    env.reset(options={"state": HUGE})
    with pytest.raises(DivergenceError, match=rf"^{backend}: acrobot diverged at t = 0 s \(step 0\) .*1e\+12") as e:
        env.step(np.zeros(1, dtype=np.float32))
    assert "\n" not in str(e.value) and isinstance(e.value, UnderactError)
    np.testing.assert_array_equal(env.unwrapped.state, HUGE)  # not reset to rest, as MuJoCo would
    assert os.listdir(tmp_path) == []


def test_vector_env_divergence_names_the_copy():
    vec = gym.make_vec("underact/CartPoleSwingUp-v0", num_envs=3, vectorization_mode="vector_entry_point")
    vec.reset(options={"state": [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1e12]]})
    with pytest.raises(DivergenceError, match=r"^analytic: cartpole \(env 2\) diverged at t = 0 s \(step 0\)"):
        vec.step(np.zeros((3, 1)))


def test_simulators_agree_on_where_a_blow_up_starts():
    """1e5 rad/s at the shoulder: analytic RK4 and MuJoCo's RK4 fail at the same step, from the same state."""
    messages = {}
    for backend in ("analytic", "mujoco"):
        plant = underact.load("acrobot", backend)
        with pytest.raises(DivergenceError) as e:
            simulate(plant, zero, [0.0, 0.0], [1e5, 0.0], 1.0)
        messages[backend] = str(e.value)
    for text in messages.values():
        assert "diverged at t = 0.001 s (step 1) from q = [137.855, -75.7596]" in text
    assert "qacc[0]" in messages["mujoco"]


@pytest.mark.parametrize(("v0", "why"), [(1e5, "steps per simulated second"), (1e10, "beyond"), (1e150, "beyond")])
def test_drake_stops_a_runaway_integrator_quickly(v0, why):
    plant = underact.load("acrobot", "drake")
    start = time.perf_counter()
    with pytest.raises(DivergenceError, match=rf"^drake: acrobot diverged at .*{why}"):
        simulate(plant, zero, [0.0, 0.0], [v0, 0.0], 0.1)
    assert time.perf_counter() - start < 10.0  # it hung before


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_nan_input_is_a_divergence_on_every_backend(backend):
    """Drake's own failure (and its asserts' SystemExit) and MuJoCo's zeroing of a bad ctrl become the same error."""
    plant = underact.load("acrobot", backend)
    with pytest.raises(DivergenceError, match=rf"^{backend}: acrobot diverged at t = 0.0"):
        simulate(plant, nan_after(0.05), [0.1, 0.0], [0.0, 0.0], 1.0)


def test_cli_blow_up_is_one_line_exit_2_and_no_mujoco_log(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["simulate", "acrobot", "--backend", "mujoco", "--controller", "none", "--x0", "0,0,1e5,0", "--json"]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("underact: error: mujoco: acrobot diverged at t = 0.001 s")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"m1": -1}, "m1"),
        ({"l1": 0}, "l1"),
        ({"gravity": float("nan")}, "gravity"),
        ({"u_limit": -1}, "u_limit"),
        ({"m1": float("inf")}, "m1"),
        ({"l1": 1e300}, "l1"),
        ({"b1": True}, "b1"),
        ({"Ic1": 1j}, "Ic1"),
    ],
)
@pytest.mark.parametrize("backend", ["analytic", "mujoco"])
def test_load_refuses_unphysical_parameters(backend, params, name):
    with pytest.raises(UnderactError, match=rf"^acrobot parameter {name} must be [^\n]*; got"):
        underact.load("acrobot", backend, **params)


def test_env_kwargs_go_through_the_same_check():
    with pytest.raises(
        ValueError, match=r"^cartpole parameter l must be finite and in \[1e-06, 1e\+06\]; got 1e\+300$"
    ):
        gym.make("underact/CartPoleSwingUp-v0", l=1e300)
    with pytest.raises(ValueError, match=r"^cartpole parameter mp must be finite"):
        gym.make_vec("underact/CartPoleSwingUp-v0", num_envs=2, vectorization_mode="vector_entry_point", mp=[1, -1])


@pytest.mark.parametrize(
    "text", ['0.1"/><joint name="evil" type="hinge"/><geom size="0.1', '0.1"/><include file="/etc/hostname"/><a b="']
)
def test_parameter_text_never_reaches_mjcf(text):
    with pytest.raises(UnderactError, match=r"^acrobot parameter b1 must be a number; got"):
        underact.load("acrobot", "mujoco", b1=text)
    model = SPECS["acrobot"](AcrobotParams()).compile()
    assert model.njnt == 2 and model.nu == 1


def test_env_inputs_must_be_real_integers_and_shaped():
    env = gym.make("underact/AcrobotSwingUp-v0")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"^action must be real numbers \(float or int\); got dtype complex128$"):
        env.step(np.array([1 + 2j]))
    with pytest.raises(ValueError, match=r"^num_envs must be a positive integer; got 2\.7$"):
        gym.make_vec("underact/AcrobotSwingUp-v0", num_envs=2.7, vectorization_mode="vector_entry_point")
    vec = gym.make_vec("underact/AcrobotSwingUp-v0", num_envs=3, vectorization_mode="vector_entry_point")
    vec.reset(seed=0)
    with pytest.raises(ValueError, match=r"^actions must have shape \(3, 1\); got \(1, 3\)$"):
        vec.step(np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"^actions must be real numbers"):
        vec.step(np.zeros((3, 1), dtype=complex))


def test_cli_unwritable_out_is_refused_before_simulating(capsys):
    assert main(["simulate", "acrobot", "--backend", "drake", "--duration", "600", "--out", "/proc/self"]) == 2
    err = capsys.readouterr().err
    assert (
        err == "underact: error: --out /proc/self: cannot write in the folder (No such file or directory); "
        "choose another\n"
    )


def test_cli_failed_write_is_one_line(tmp_path):
    """A file-size limit stands in for a full disk: the write fails after the run, in one line, leaving no temp file
    and no folder (the run made it)."""

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))

    out = tmp_path / "run"
    argv = ["simulate", "pendulum", "--controller", "none", "--backend", "analytic", "--duration", "0.5"]
    p = subprocess.run(
        [sys.executable, "-m", "underact.cli", *argv, "--out", str(out)],
        capture_output=True,
        text=True,
        preexec_fn=small_files,
        timeout=120,
    )
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert (
        p.stderr.splitlines()[-1]
        == f"underact: error: --out: could not write {out / 'trajectory.npz'} (File too large)"
    )
    assert not out.exists()


def test_demo_refuses_zero_states(capsys):
    with pytest.raises(SystemExit) as e:
        main(["demo", "--states", "0"])
    assert e.value.code == 2
    assert (
        capsys.readouterr().err == "underact: error: argument --states: must be an integer from 1 to 10000; got '0'\n"
    )


def test_json_summary_is_strict_json(capsys):
    line = json_line({"system": "acrobot", "final_v": [1.0, float("nan")], "energy_error": float("inf")})
    assert json.loads(line, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}")) == {
        "system": "acrobot",
        "final_v": [1.0, None],
        "energy_error": None,
    }
    err = capsys.readouterr().err
    assert "underact: warning: final_v is not finite" in err and "energy_error is not finite" in err
