"""The benchmark scripts refuse bad settings in one line (exit 2) before any measuring starts."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--episodes", "0"], "--episodes must be a positive integer"),
        (["--threads", "-1"], "--threads must be a positive integer"),
        (["--hidden", "1x"], "invalid literal"),
        (["--hidden", "0"], "positive entries"),
        (["--own-env", "underact/Nope-v0"], "unknown environment id"),
        (["--own-genome", "/nonexistent/run"], "is not a run folder"),
        (["--scale", "nan"], "--scale must be a finite number"),
        (["--population", "1000000000"], "more than half of this machine"),
        (["--workers", "100000"], "--workers and --threads must be at most"),
        (["--mujoco", "-3"], "--mujoco and --mujoco-steps must be positive"),
        (["--train", "0"], "--train must be a positive integer"),
        (["--jax"], "--jax goes with --train"),
        (["--json", "/nonexistent/folder/out.json"], "the folder /nonexistent/folder does not exist"),
    ],
)
def test_bench_agents_refuses_bad_settings_in_one_line(args, message):
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / "bench_agents.py"), "--no-ray", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_bench_envs_refuses_bad_settings_in_one_line(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)  # writing the record there would block, or replace the pipe with a file
    for args, message in (
        (["--json", str(fifo)], "exists and is not a regular file"),
        (["--json", str(tmp_path)], "exists and is not a regular file"),
        (["--num-envs", "1000000000000"], "--num-envs must be at most"),
        (["--repeats", "0"], "must be positive"),
    ):
        done = subprocess.run(
            [sys.executable, str(SCRIPTS / "bench_envs.py"), *args], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert fifo.exists() and not fifo.is_file()  # left as it was


def test_bench_envs_numpy_path_steps_through_the_numpy_oracle(monkeypatch):
    """The acrobot's baseline really is the plain-numpy path (a step that silently kept the compiled kernel made
    the ratio 1.00×), and it plays the compiled path's episodes."""
    import importlib.util

    import numpy as np

    from underact.envs import packed

    spec = importlib.util.spec_from_file_location("bench_envs", SCRIPTS / "bench_envs.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    numpy_env = bench.vector_env("underact/AcrobotSwingUp-v0", 64, numpy_path=True)
    compiled_env = bench.vector_env("underact/AcrobotSwingUp-v0", 64)
    calls, oracle = [], packed.numpy_step
    monkeypatch.setattr(packed, "numpy_step", lambda *args: calls.append(1) or oracle(*args))
    numpy_env.reset(seed=3), compiled_env.reset(seed=3)
    actions = np.random.default_rng(0).uniform(-1, 1, (64, 1))
    for _ in range(30):
        ours, theirs = numpy_env.step(actions), compiled_env.step(actions)
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-12)
        assert np.array_equal(ours[2], theirs[2]) and np.array_equal(ours[3], theirs[3])
    assert len(calls) == 30
