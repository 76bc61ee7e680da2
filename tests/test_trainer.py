"""Run folders through the CLI: files and summaries, exact resume after SIGKILL, atomic checkpoints, bad input,
and the Ray backend reproducing the local backend."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from underact.agents import TrainConfig, load_checkpoint, read_metrics, save_checkpoint, train
from underact.agents.runfolder import METRICS_COLUMNS
from underact.cli import main

TINY = [
    "--hidden",
    "4",
    "--population",
    "6",
    "--episodes",
    "1",
    "--eval-episodes",
    "3",
    "--quiet",
    "--target-return",
    "none",
]


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "underact.cli", *args], capture_output=True, text=True, timeout=120)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _key_rows(folder: Path) -> list[tuple[str, str, str, str]]:
    return [(r["generation"], r["best_return"], r["mean_return"], r["center_return"]) for r in read_metrics(folder)]


def test_train_writes_a_run_folder_and_json_summary(tmp_path, capsys):
    out = tmp_path / "cp"
    assert main(["train", "--env", "CartPole-v1", "--generations", "3", "--json", "--out", str(out), *TINY]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(summary) == {"run", "generations", "best_return", "eval_mean_return", "env_steps", "wall_s"}
    assert summary["generations"] == 3
    for name in ("config.json", "metrics.csv", "latest.safetensors", "best.safetensors", "curve.png"):
        assert (out / name).is_file(), name
    with (out / "metrics.csv").open() as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == METRICS_COLUMNS
        rows = list(reader)
    assert [int(r["generation"]) for r in rows] == [0, 1, 2]
    assert int(rows[-1]["env_steps"]) == summary["env_steps"]
    # CartPole pays 1 per step, so a generation's steps bound its returns: 6 individuals + 4 center copies.
    steps_gen0 = int(rows[0]["env_steps"])
    assert float(rows[0]["mean_return"]) * 6 <= steps_gen0
    assert 1 <= float(rows[0]["best_return"]) <= 500

    assert main(["evaluate", str(out), "--episodes", "5", "--json", "--render", str(tmp_path / "ep.gif")]) == 0
    ev = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(ev) == {"mean_return", "std_return", "episodes"} and ev["episodes"] == 5
    from PIL import Image

    with Image.open(tmp_path / "ep.gif") as gif:
        assert gif.n_frames > 5


_HEAVY_PROBE = """
import sys
from underact.cli import main
assert main(sys.argv[1:]) == 0
print("heavy:", *[m for m in ("torch", "matplotlib", "matplotlib.figure") if m in sys.modules])
"""


def test_plain_run_and_evaluate_load_neither_torch_nor_matplotlib(tmp_path):
    """torch (1.5 s) is only for encoders and matplotlib (0.7 s) not at all: fresh weights come from numpy's copy
    of torch's generator and curve.png from Pillow. The run still writes its curve as a PNG of the figure size."""
    out = tmp_path / "cp"
    for args in (
        ["train", "--env", "CartPole-v1", "--generations", "2", "--out", str(out), *TINY],
        ["evaluate", str(out), "--episodes", "2", "--render", str(tmp_path / "ep.gif")],
    ):
        p = subprocess.run([sys.executable, "-c", _HEAVY_PROBE, *args], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        assert p.stdout.splitlines()[-1] == "heavy:", f"{args[0]} imported {p.stdout.splitlines()[-1]}"
    from PIL import Image

    with Image.open(out / "curve.png") as png:
        assert png.format == "PNG" and png.size == (600, 350)


def test_resume_after_sigkill_reproduces_the_uninterrupted_rows(tmp_path):
    """Both runs are fresh CLI processes, as a user's are (not this test process, which other tests have used)."""
    args = ["train", "--env", "Pendulum-v1", "--generations", "12", *TINY]
    full = tmp_path / "full"
    cli = [sys.executable, "-m", "underact.cli"]
    assert subprocess.run([*cli, *args, "--out", str(full)], capture_output=True, timeout=300).returncode == 0
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "underact.cli", *args, "--out", str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline and len(read_metrics(killed)) < 4 and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < len(read_metrics(killed)) < 12, "the kill should land mid-run"
    resumed = subprocess.run([*cli, "train", "--resume", str(killed), "--quiet"], capture_output=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert _key_rows(killed) == _key_rows(full)
    assert len(_key_rows(full)) == 12


def test_resume_can_extend_a_finished_run(tmp_path):
    cfg = TrainConfig(
        env="CartPole-v1",
        hidden=(4,),
        population=6,
        episodes=1,
        eval_episodes=2,
        generations=4,
        target_return="none",
        seed=3,
    )
    train(cfg, out=tmp_path / "a", progress=False)
    train(TrainConfig(**{**vars(cfg), "generations": 2}), out=tmp_path / "b", progress=False)
    train(resume=tmp_path / "b", generations=4, progress=False)
    assert _key_rows(tmp_path / "a") == _key_rows(tmp_path / "b")


_WRITER = """
import sys, numpy as np
from underact.agents.checkpoint import save_checkpoint
path, i = sys.argv[1], 0
while True:
    i += 1
    save_checkpoint(path, {"x": np.full(3_000_000, i, dtype=np.float32)}, {"i": str(i)})
    print(i, flush=True)
"""


def test_checkpoint_survives_sigkill_during_write(tmp_path):
    path = tmp_path / "latest.safetensors"
    save_checkpoint(path, {"x": np.zeros(3_000_000, np.float32)}, {"i": "0"})
    for delay in (0.3, 0.55, 0.8):
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True)
        proc.stdout.readline()  # at least one write finished
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        arrays, meta = load_checkpoint(path)  # never a torn file
        assert np.all(arrays["x"] == float(meta["i"]))


def test_bad_input_is_one_line_exit_2_and_leaves_runs_untouched(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--env", "CartPole-v1", "--generations", "2", "--out", str(run), *TINY]) == 0
    before = _snapshot(run)
    cases = [
        ["train", "--env", "NoSuchEnv-v0", "--out", str(tmp_path / "x")],
        ["train", "--rule", "XYZ", "--out", str(tmp_path / "x")],
        ["train", "--population", "7", "--out", str(tmp_path / "x")],
        ["train", "--out", str(run), *TINY],
        ["train", "--resume", str(tmp_path)],
        ["evaluate", str(tmp_path)],
    ]
    capsys.readouterr()
    for case in cases:
        assert main(case) == 2, case
        err = capsys.readouterr().err
        assert err.startswith("underact: error:") and err.count("\n") == 1, err
    assert not (tmp_path / "x").exists()
    assert _snapshot(run) == before

    data = bytearray((run / "latest.safetensors").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (run / "latest.safetensors").write_bytes(bytes(data))
    corrupted = _snapshot(run)
    res = _run_cli("train", "--resume", str(run), "--generations", "4")
    assert res.returncode == 2 and "corrupted checkpoint" in res.stderr and res.stderr.count("\n") == 1
    assert _snapshot(run) == corrupted


def _ray_or_skip():
    ray = pytest.importorskip("ray")
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    except Exception as exc:  # a sandbox without the sockets Ray needs
        pytest.skip(f"Ray did not start: {exc}")
    return ray


def test_ray_backend_matches_local_backend(tmp_path):
    ray = _ray_or_skip()
    try:
        cfg = TrainConfig(
            env="CartPole-v1",
            hidden=(4,),
            population=6,
            episodes=2,
            eval_episodes=2,
            generations=3,
            target_return="none",
            seed=7,
        )
        train(cfg, out=tmp_path / "local", progress=False)
        train(TrainConfig(**{**vars(cfg), "backend": "ray", "workers": 2}), out=tmp_path / "ray", progress=False)
    finally:
        ray.shutdown()
    assert _key_rows(tmp_path / "ray") == _key_rows(tmp_path / "local")
    assert len({r[1] for r in _key_rows(tmp_path / "local")}) > 1


def _cartpole_run_that_stopped_at_its_target(folder: Path, capsys) -> int:
    """The README's run: CartPole-v1, defaults, stopped early at the target (475); its generation count."""
    assert main(["train", "--env", "CartPole-v1", "--seed", "0", "--out", str(folder), "--quiet", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["generations"] < TrainConfig().generations  # it stopped early, at its target
    return summary["generations"]


def test_resume_with_a_larger_budget_trains_on_past_the_early_stop(tmp_path, capsys):
    folder = tmp_path / "cp"
    done = _cartpole_run_that_stopped_at_its_target(folder, capsys)
    assert main(["train", "--resume", str(folder), "--quiet", "--json"]) == 0  # nothing to do: it says so
    captured = capsys.readouterr()
    assert json.loads(captured.out)["generations"] == done
    assert "nothing left to train" in captured.err and f"more than {done}" in captured.err
    assert main(["train", "--resume", str(folder), "--generations", str(done + 3), "--quiet", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["generations"] == done + 3
    assert "without the early stop" in captured.err
    assert [int(r["generation"]) for r in read_metrics(folder)] == list(range(done + 3))


def test_resume_refuses_flags_that_contradict_the_run(tmp_path, capsys):
    folder = tmp_path / "r"
    assert main(["train", "--env", "CartPole-v1", "--out", str(folder), *TINY, "--generations", "2"]) == 0
    before = _snapshot(folder)
    capsys.readouterr()
    for flags, message in (
        (["--population", "8"], "--population 8 contradicts the run's population 6"),
        (["--env", "Acrobot-v1"], '--env "Acrobot-v1" contradicts the run\'s env "CartPole-v1"'),
        (["--hidden", "8"], "--hidden [8] contradicts the run's hidden [4]"),
        (["--no-antithetic"], "--no-antithetic contradicts the run's antithetic true"),
    ):
        assert main(["train", "--resume", str(folder), *flags, "--generations", "3"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert _snapshot(folder) == before
    # the run's own values are no contradiction
    assert main(["train", "--resume", str(folder), "--population", "6", "--generations", "3", "--quiet"]) == 0
    assert len(read_metrics(folder)) == 3


def test_joining_a_ray_cluster_with_token_auth(tmp_path):
    """The Ray guide's recipe: `ray start --head` (token authentication on in Ray 2.60), then `underact train
    --backend ray --address`: without RAY_AUTH_MODE=token one line names that fix; with it, the run joins and
    matches the local backend generation for generation."""
    port = "6397"
    ray_cli = [sys.executable, "-m", "ray.scripts.scripts"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    started = subprocess.run([*ray_cli, "start", "--head", "--port", port, "--num-cpus", "2",
                              "--include-dashboard=false"], capture_output=True, text=True, timeout=180, env=env)
    if started.returncode != 0:
        pytest.skip(f"ray start --head failed here: {started.stderr.strip().splitlines()[-1:]}")
    try:
        args = [sys.executable, "-m", "underact.cli", "train", *TINY, "--generations", "3", "--seed", "7",
                "--backend", "ray", "--address", f"127.0.0.1:{port}"]
        plain = subprocess.run([*args, "--out", str(tmp_path / "plain")], capture_output=True, text=True,
                               timeout=180, env=env)
        if plain.returncode == 0:
            pytest.skip("this Ray's `ray start --head` does not require a token")
        last = plain.stderr.strip().splitlines()[-1]
        assert plain.returncode == 2 and last.startswith("underact: error: could not start or join the cluster")
        assert "RAY_AUTH_MODE=token" in last and not (tmp_path / "plain").exists()
        joined = subprocess.run([*args, "--out", str(tmp_path / "ray")], capture_output=True, text=True,
                                timeout=300, env={**env, "RAY_AUTH_MODE": "token"})
        assert joined.returncode == 0, joined.stderr[-2000:]
        # with that cluster running, --backend ray without --address still starts an instance of its own
        own = subprocess.run([*args[:-2], "--workers", "2", "--out", str(tmp_path / "own")], capture_output=True,
                             text=True, timeout=300, env=env)
        assert own.returncode == 0, own.stderr[-2000:]
    finally:
        subprocess.run([*ray_cli, "stop", "--force"], capture_output=True, timeout=120, env=env)
    local = [*args[:-4], "--out", str(tmp_path / "local")]
    assert subprocess.run(local, capture_output=True, timeout=180).returncode == 0
    assert _key_rows(tmp_path / "ray") == _key_rows(tmp_path / "local") == _key_rows(tmp_path / "own")
