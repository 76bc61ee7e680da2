"""What `underact train` / `evaluate` refuse from a hostile user: bad settings, tampered or half-written run
folders, a folder another process holds, unreachable Ray clusters, unwritable paths. Every refusal is one line
`underact: error: ...` and exit 2, through the real CLI; runs are tiny (CartPole-v1, 2 generations)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import gymnasium
import numpy as np
import pytest
import torch

from underact.agents import load_checkpoint, load_genome, read_config, read_metrics, save_checkpoint, train
from underact.agents.build import make_net
from underact.agents.config import TrainConfig
from underact.agents.perception import SupConEncoder
from underact.agents.perception.pipeline import save_encoder
from underact.agents.runfolder import locked, read_latest
from underact.cli import main

TINY = ["--hidden", "4", "--population", "4", "--episodes", "1", "--eval-episodes", "2", "--quiet"]
TINY += ["--target-return", "none", "--generations", "2"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "run"
    config = TrainConfig(hidden=(4,), population=4, episodes=1, eval_episodes=2, generations=2, target_return="none")
    train(config, out=out, progress=False)
    return out


@pytest.fixture
def run(finished, tmp_path) -> Path:
    """A private copy of a finished 2-generation run."""
    return Path(shutil.copytree(finished, tmp_path / "run"))


def _refused(capsys, argv: list[str], message: str) -> None:
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors, a bad argument type's included
        code = exc.code
    assert code == 2, argv
    err = capsys.readouterr().err
    assert err.startswith("underact: error:") and err.count("\n") == 1 and message in err, err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--sigma", "nan"], "sigma must be a finite number in (0.0, 1000.0], got nan"),
        (["--lr", "inf"], "lr must be a finite number"),
        (["--lr", "nan"], "lr must be a finite number"),
        (["--l2", "nan"], "l2 must be a finite number"),
        (["--sigma-decay", "nan"], "sigma_decay must be a finite number in (0.0, 1.0]"),
        (["--sigma-decay", "-1"], "sigma_decay must be a finite number in (0.0, 1.0], got -1.0"),
        (["--target-return", "nan"], "target_return must be a finite number"),
        (["--hidden", "100000000"], "hidden sizes must be between 1 and 10000000"),
        (["--hidden", "5000000", "--population", "64"], "GB, more than half of this machine's"),
        (["--seed", "-1"], "seed must be between 0 and 2**32 - 1"),
        (["--env", "underact/CartPoleBalance-v0", "--env-kwargs", '{"l": 1e300}'], "could not make the environment"),
        (["--env-kwargs", '{"length": NaN}'], "env_kwargs must hold finite numbers only"),
    ],
)
def test_bad_settings_are_refused_at_the_door(tmp_path, capsys, flags, message):
    out = tmp_path / "never"
    _refused(capsys, ["train", *TINY, *flags, "--out", str(out)], message)
    assert not out.exists()


def test_evaluate_refuses_an_episode_count_that_does_not_fit_in_memory(run, capsys):
    _refused(capsys, ["evaluate", str(run), "--episodes", "100000000"], "use fewer episodes")


def test_edited_config_is_refused(run, capsys):
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "population": "six"}))
    _refused(capsys, ["train", "--resume", str(run)], "config.json was changed after the run started")
    _refused(capsys, ["evaluate", str(run)], "config.json was changed after the run started")
    with pytest.raises(ValueError, match="population must be <class 'int'>, got 'six'"):
        TrainConfig.from_json(json.dumps({**config, "population": "six"}))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[:-7], "has 1 complete rows, the checkpoint needs 2"),  # cut mid-line
        (lambda data: data[: data.rindex(b"\n", 0, -1) + 1], "has 1 complete rows"),  # cut at a row boundary
        (lambda data: data + data.split(b"\n")[-2] + b"\n", None),  # a row past the checkpoint: dropped
        (lambda data: data.replace(b"\n1,", b"\n7,"), "does not match the checkpoint's manifest"),
        (None, "metrics.csv is missing"),
    ],
)
def test_resume_verifies_metrics_against_the_manifest(run, capsys, damage, message):
    path = run / "metrics.csv"
    rows = read_metrics(run)
    if damage is None:
        path.unlink()
    else:
        path.write_bytes(damage(path.read_bytes()))
    if message is not None:
        _refused(capsys, ["train", "--resume", str(run)], message)
        return
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    assert read_metrics(run) == rows


def test_a_held_run_folder_is_refused(run, tmp_path, capsys):
    with locked(run):
        _refused(capsys, ["train", "--resume", str(run)], "is in use by another underact train (pid")
    fresh = tmp_path / "fresh"
    with locked(fresh):
        _refused(capsys, ["train", *TINY, "--out", str(fresh)], "is in use by another underact train")


def test_tampered_or_swapped_checkpoints_are_refused(run, capsys):
    from safetensors.numpy import load_file, save_file

    latest = run / "latest.safetensors"
    arrays, meta = load_checkpoint(latest)
    scalars = json.loads(meta["es_scalars"])
    save_file(load_file(latest), latest, metadata={**meta, "es_scalars": json.dumps({**scalars, "sigma": 5.0})})
    _refused(capsys, ["train", "--resume", str(run)], "latest.safetensors: corrupted checkpoint (checksum mismatch)")

    save_checkpoint(latest, arrays, {k: v for k, v in meta.items() if k not in ("format", "sha256")})
    best = run / "best.safetensors"
    swap = run / "swap"
    best.rename(swap)
    latest.rename(best)
    swap.rename(latest)
    _refused(capsys, ["train", "--resume", str(run)], "holds a 'best-genome' checkpoint, expected 'es-state'")
    _refused(capsys, ["evaluate", str(run)], "holds a 'best-genome' checkpoint, expected 'es-state'")


def test_a_run_killed_before_its_first_checkpoint_can_be_started_again(run, capsys):
    (run / "latest.safetensors").unlink()
    (run / "best.safetensors").unlink()
    (run / "curve.png").unlink()
    stale = run / ".latest.safetensors.k1ll3d.tmp"
    stale.write_bytes(b"half a checkpoint")
    _refused(capsys, ["train", "--resume", str(run)], f"start it again with --out {run}")
    assert main(["train", *TINY, "--out", str(run)]) == 0
    assert "killed before its first checkpoint; starting it again" in capsys.readouterr().err
    assert not stale.exists() and len(read_metrics(run)) == 2


def test_evaluate_refuses_missing_best_and_non_finite_genomes(run, capsys):
    latest = run / "latest.safetensors"
    arrays, meta = load_checkpoint(latest)
    generation = json.loads(meta["progress"])["generation"]
    best = run / "best.safetensors"
    best.unlink()
    _refused(capsys, ["evaluate", str(run)], "best.safetensors is missing; restore it, or use --checkpoint latest")
    # Valid checksums: a best genome from the generation after the checkpoint (as a kill leaves) and a NaN center.
    size = arrays["center"].size
    nan_meta = {"kind": "best-genome", "generation": str(generation), "center_return": "1.0"}
    save_checkpoint(best, {"genome": np.full(size, np.nan, np.float32)}, nan_meta)
    _refused(capsys, ["evaluate", str(run)], f"best.safetensors: {size} of {size} parameters are not finite")
    center = arrays["center"].copy()
    center[3] = np.inf
    save_checkpoint(latest, {**arrays, "center": center}, {k: v for k, v in meta.items() if k != "sha256"})
    _refused(capsys, ["evaluate", str(run), "--checkpoint", "latest"], "1 of")
    _refused(capsys, ["train", "--resume", str(run)], "parameters are not finite")


def test_unreachable_ray_cluster_is_one_line_quickly(tmp_path, capsys):
    pytest.importorskip("ray")
    out = tmp_path / "never"
    t0 = time.monotonic()
    argv = ["train", *TINY, "--backend", "ray", "--address", "127.0.0.1:1", "--out", str(out)]
    _refused(capsys, argv, "could not reach the Ray cluster at 127.0.0.1:1")
    assert time.monotonic() - t0 < 30
    assert not out.exists()


def test_unwritable_paths_are_one_line(run, tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    _refused(capsys, ["train", *TINY, "--out", str(tmp_path / "file" / "run")], "Not a directory")
    _refused(capsys, ["evaluate", str(run), "--episodes", "2", "--render", "/proc/episode.gif"], "/proc/episode.gif")


def test_encoder_files_with_bad_metadata_are_one_line(tmp_path, capsys):
    from safetensors.torch import save_file

    torch.manual_seed(0)
    encoder = SupConEncoder((2, 16, 16), feature_dim=4, proj_dim=4, width=2)
    state = {k: v.contiguous() for k, v in encoder.state_dict().items()}
    lacking = tmp_path / "lacking.safetensors"
    save_file(state, str(lacking), metadata={"kind": "supcon", "underact_observation": "{}"})
    history = tmp_path / "history.safetensors"
    save_encoder(encoder, history, {"history": 1_000_000, "env_kwargs": {"width": 16, "height": 16}})
    wide = tmp_path / "wide.safetensors"
    save_encoder(encoder, wide, {"history": 2, "env_kwargs": {"width": 100_000, "height": 16}})
    cases = {
        lacking: "encoder metadata lacks 'supcon_config'",
        history: "recipe 'history' must be an integer in [1, 4096], got 1000000",
        wide: "recipe env_kwargs 'width' must be an integer in [1, 2048], got 100000",
    }
    for path, message in cases.items():
        argv = ["train", *TINY, "--env", "underact/CartPoleBalance-v0", "--encoder", f"supcon:{path}"]
        _refused(capsys, [*argv, "--out", str(tmp_path / "never")], message)


def _rewrite_manifest(run: Path, **changes) -> None:
    """latest.safetensors again, with valid checksums, its manifest changed (a value of None drops the key)."""
    latest = run / "latest.safetensors"
    arrays, meta = load_checkpoint(latest)
    manifest = {k: v for k, v in {**json.loads(meta["manifest"]), **changes}.items() if v is not None}
    kept = {k: v for k, v in meta.items() if k not in ("format", "sha256")}
    save_checkpoint(latest, arrays, {**kept, "manifest": json.dumps(manifest)})


def test_the_genome_length_is_recorded_and_read_without_an_environment(run, monkeypatch, capsys):
    manifest = read_latest(run)[2]
    size = make_net(read_config(run)).num_params
    assert manifest["genome_length"] == size == load_genome(run).size

    def no_environment(*args, **kwargs):
        raise AssertionError("reading a run folder built an environment")

    monkeypatch.setattr(gymnasium, "make", no_environment)
    monkeypatch.setattr(gymnasium, "make_vec", no_environment)
    assert load_genome(run, "latest").size == size
    _rewrite_manifest(run, genome_length=size + 1)  # the recorded value is the one checked against
    with pytest.raises(ValueError, match=rf"holds \({size},\) parameters, the run's network needs \({size + 1},\)"):
        load_genome(run)
    monkeypatch.undo()
    _rewrite_manifest(run, genome_length="many")
    _refused(capsys, ["evaluate", str(run)], "latest.safetensors: the manifest is missing or malformed")


def test_a_run_written_before_the_genome_length_was_recorded_still_loads_and_resumes(run):
    _rewrite_manifest(run, genome_length=None)
    size = make_net(read_config(run)).num_params
    assert "genome_length" not in read_latest(run)[2] and load_genome(run).size == size  # computed from the config
    train(resume=run, generations=3, progress=False)
    assert read_latest(run)[2]["genome_length"] == size  # recorded from the resumed run's first commit on
