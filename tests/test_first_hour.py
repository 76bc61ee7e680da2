"""A new user's first hour (issue 23): the small things that surprised one, each checked as that user meets it."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time

import numpy as np
import scipy.io

from underact import load
from underact.cli import main
from underact.simulate.plot import upright_reached


def _rows(path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_ctrl_c_during_async_training_is_one_line(tmp_path):
    """Ctrl-C reaches the whole process group (every async worker too): one line, exit 130, no worker left."""
    out = tmp_path / "run"
    args = [sys.executable, "-m", "underact.cli", "train", "--env", "CartPole-v1", "--vectorization", "async",
            "--population", "16", "--episodes", "2", "--generations", "200", "--target-return", "none", "--quiet",
            "--out", str(out)]
    stderr = tmp_path / "stderr.txt"
    with open(stderr, "w") as err_file:  # a file, not a pipe: a worker left alive cannot hold the test up
        # SIGINT at its default in the child, as under a terminal, whatever the test runner's own setting is (an
        # ignored signal stays ignored across exec, and Python then installs no KeyboardInterrupt handler)
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err_file, start_new_session=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while _rows(out / "metrics.csv") < 2 and time.monotonic() < deadline:  # a generation done: workers up, training
            time.sleep(0.2)
        os.killpg(p.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        p.wait(timeout=120)
        time.sleep(0.5)
        left = subprocess.run(["ps", "-o", "pid=,stat=,cmd=", "-g", str(p.pid)], capture_output=True, text=True)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    err = stderr.read_text()
    assert p.returncode == 130 and err == "underact: interrupted\n", err[-3000:]
    assert left.stdout.strip() == "", left.stdout


def test_a_forgotten_namespace_is_suggested(capsys):
    assert main(["train", "--env", "AcrobotSwingUp-v0", "--out", "unused"]) == 2
    err = capsys.readouterr().err
    assert err == ("underact: error: unknown environment id 'AcrobotSwingUp-v0'; "
                   "did you mean 'underact/AcrobotSwingUp-v0'?\n")


def test_analyze_mat_says_what_it_wrote(tmp_path, capsys):
    target = tmp_path / "acrobot.mat"
    assert main(["analyze", "acrobot", "--backend", "analytic", "--samples", "3", "--json", "--mat", str(target)]) == 0
    captured = capsys.readouterr()
    assert f"wrote M, B, q_eq, A_lin, B_lin at the equilibrium to {target}" in captured.err
    saved = scipy.io.loadmat(target)
    assert saved["M"].shape == (2, 2) and saved["A_lin"].shape == (4, 4)
    assert captured.out.startswith("{")  # stdout stays JSON


def _with_small_files() -> None:  # a full disk, as a process sees it: writes past 64 KiB fail with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def test_simulate_on_a_full_disk_removes_only_the_folder_it_made(tmp_path):
    args = [sys.executable, "-m", "underact.cli", "simulate", "pendulum", "--controller", "none", "--duration",
            "3"]
    new = tmp_path / "new" / "run"
    done = subprocess.run([*args, "--out", str(new)], capture_output=True, text=True, timeout=300,
                          preexec_fn=_with_small_files)
    last = done.stderr.splitlines()[-1]  # after the progress bar
    assert done.returncode == 2 and last.startswith("underact: error: --out: could not write"), done.stderr
    assert "File too large" in last and "Traceback" not in done.stderr and not (tmp_path / "new").exists()
    kept = tmp_path / "mine"
    kept.mkdir()
    (kept / "notes.txt").write_text("a user's file")
    done = subprocess.run([*args, "--out", str(kept)], capture_output=True, text=True, timeout=300,
                          preexec_fn=_with_small_files)
    assert done.returncode == 2 and (kept / "notes.txt").read_text() == "a user's file"


def test_the_plot_marks_the_upright_the_pole_reached():
    """A cart-pole swung up the other way balances at −π: its plot's upright line is there, not at +π."""
    plant = load("cartpole", "analytic")
    assert plant.upright[1] == np.pi
    np.testing.assert_allclose(upright_reached(plant, np.array([0.4, -3.05])), [0.0, -np.pi])
    np.testing.assert_allclose(upright_reached(plant, np.array([-7.0, 3.2 + 4 * np.pi])), [0.0, 5 * np.pi])
    np.testing.assert_allclose(upright_reached(plant, np.array([0.0, 3.0])), [0.0, np.pi])
