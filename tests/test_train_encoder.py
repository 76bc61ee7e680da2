"""`underact train --encoder`: encoder files, the observations they produce, run folders that use them, bad input.

Observations are checked against a direct computation (render, grey, stack, encode by hand); the follow camera
against the geometry of the pole (0.5 m at width / follow px per metre).
"""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
import torch

import underact.envs  # noqa: F401  (registers underact/... ids)
from underact.agents import read_config, read_metrics
from underact.agents.build import make_env_spec, make_net
from underact.agents.config import TrainConfig
from underact.agents.perception import SupConEncoder
from underact.agents.perception.pipeline import VelocityEstimator, load_encoder, save_encoder
from underact.cli import main

ENV = "underact/CartPoleBalance-v0"
SIZE, FOLLOW = 16, 1.6
TINY = ["--hidden", "4", "--population", "4", "--episodes", "1", "--eval-episodes", "3", "--quiet"]


@pytest.fixture
def supcon_file(tmp_path):
    torch.manual_seed(0)
    encoder = SupConEncoder((2, SIZE, SIZE), feature_dim=4, proj_dim=4, width=2)
    path = tmp_path / "enc.safetensors"
    save_encoder(encoder, path, {"history": 2, "env_kwargs": {"width": SIZE, "height": SIZE, "follow": FOLLOW}})
    return path, encoder.eval()


def test_follow_camera_centres_the_cart_and_scales_the_pole():
    env = gym.make_vec(
        ENV,
        num_envs=1,
        vectorization_mode="vector_entry_point",
        render_mode="rgb_array",
        width=64,
        height=64,
        follow=FOLLOW,
    )
    system = env.unwrapped.task
    env.close()
    states = np.array(
        [[0.0, np.pi, 0.0, 0.0], [0.9, np.pi, 0.0, 0.0], [0.0, np.pi + 0.2, 0.0, 0.0], [0.1, np.pi, 0.0, 0.0]]
    )
    frames = system.render(states, 64, 64).astype(int)
    # Ticks every 0.3 m: a shift by three ticks looks the same, a shift by 0.1 m moves them 4 px to the left.
    assert np.abs(frames[0] - frames[1]).max() <= 1
    px_per_m = 64 / FOLLOW
    row = 32 - 2  # 1.5 px above the rail's centre line: ticks reach 0.06 m = 2.4 px, the rail 1.1 px
    for frame, x in ((frames[0], 0.0), (frames[3], 0.1)):
        grey = frame[row, :, 0] < 200
        left = np.nonzero(grey[:12])[0].mean() + 0.5  # the tick at −0.6 m, clear of the cart
        assert left == pytest.approx(32 + (-0.6 - x) * px_per_m, abs=0.3)
    red = (frames[0, :, :, 0] > 150) & (frames[0, :, :, 1] < 120)  # the pole's colour (205, 75, 50)
    rows = np.nonzero(red.any(axis=1))[0]
    pole_px = 0.5 * 64 / FOLLOW  # 20 px
    assert abs((32 - rows.min()) - pole_px) <= 2.5  # tip row: pole length plus the capsule's rounded end
    tilted = (frames[2, :, :, 0] > 150) & (frames[2, :, :, 1] < 120)
    top = np.nonzero(tilted.any(axis=1))[0].min()
    tip_col = np.nonzero(tilted[top])[0].mean()
    assert abs(tip_col - (32 + pole_px * np.sin(np.pi + 0.2))) <= 2.0  # leans to the −x side


def test_supcon_wrapper_observations_match_a_direct_computation(supcon_file):
    path, encoder = supcon_file
    loaded = load_encoder(f"supcon:{path}")
    assert loaded.env_kwargs == {"render_mode": "rgb_array", "width": SIZE, "height": SIZE, "follow": FOLLOW}
    base = gym.make_vec(ENV, num_envs=3, vectorization_mode="vector_entry_point", **loaded.env_kwargs)
    env = loaded.wrap(base)
    obs, _ = env.reset(seed=1)
    first = base.unwrapped.frames()
    obs2, *_ = env.step(np.full((3, 1), 50.0, dtype=np.float32))
    second = base.unwrapped.frames()
    env.close()
    assert not np.array_equal(first, second)

    def by_hand(older, newer):
        grey = np.stack([older, newer], axis=1).astype(np.float64).mean(-1) / 255.0  # [3, 2, H, W]
        with torch.no_grad():
            return encoder(torch.tensor(grey, dtype=torch.float32)).numpy()

    np.testing.assert_allclose(obs, by_hand(first, first), atol=1e-6)
    np.testing.assert_allclose(obs2, by_hand(first, second), atol=1e-6)


def test_reformer_file_round_trips_and_estimates_from_position_history(tmp_path):
    torch.manual_seed(0)
    model = VelocityEstimator(k=4, dim=8, bucket_size=2).eval()
    path = tmp_path / "vel.safetensors"
    save_encoder(model, path, {})
    loaded = load_encoder(f"reformer:{path}")
    assert loaded.feature_dim == 5 and loaded.env_kwargs == {}

    def positions(state):  # x, cos θ, sin θ from the raw state, independent of the wrappers
        return np.stack([state[:, 0], np.cos(state[:, 1]), np.sin(state[:, 1])], axis=1).astype(np.float32)

    base = gym.make_vec(ENV, num_envs=2, vectorization_mode="vector_entry_point")
    env = loaded.wrap(base)
    env.reset(seed=0)
    history = [positions(base.unwrapped.state)] * 4
    for _ in range(3):
        obs, *_ = env.step(np.full((2, 1), 20.0, dtype=np.float32))
        history = [*history[1:], positions(base.unwrapped.state)]
    env.close()
    with torch.no_grad():
        velocity = model(torch.from_numpy(np.stack(history, axis=1))).numpy()
    np.testing.assert_allclose(obs[:, :3], history[-1], atol=1e-6)
    np.testing.assert_allclose(obs[:, 3:], velocity, atol=1e-5)


def test_train_with_encoder_writes_resumes_and_evaluates(tmp_path, supcon_file, capsys):
    path, _ = supcon_file
    out = tmp_path / "run"
    args = ["train", "--env", ENV, "--encoder", f"supcon:{path}", "--generations", "2", "--out", str(out), *TINY]
    assert main([*args, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["generations"] == 2
    config = read_config(out)
    assert config.encoder == f"supcon:{path}"
    assert TrainConfig.from_json(json.dumps(json.loads((out / "config.json").read_text()))) == config
    assert make_net(config).sizes[0] == 4  # the encoder's feature width, not the 5 state features
    assert main(["train", "--resume", str(out), "--generations", "3", "--quiet"]) == 0
    assert [int(r["generation"]) for r in read_metrics(out)] == [0, 1, 2]
    capsys.readouterr()
    for bad, message in ((tmp_path / "ep.png", "must end in .gif"), (tmp_path / "no" / "ep.gif", "does not exist")):
        with pytest.raises(SystemExit) as info:  # argparse refuses the file name (`underact.cli.argtypes`)
            main(["evaluate", str(out), "--render", str(bad)])
        assert info.value.code == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("underact: error:") and message in err and "\n" not in err, err
        assert not bad.exists()
    gif = tmp_path / "episode.gif"
    assert main(["evaluate", str(out), "--episodes", "3", "--json", "--render", str(gif)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert 1 <= result["mean_return"] <= 500

    # The video: the whole rail from a fixed camera (320 x 160), and beside it what the agent saw, 10x larger.
    from PIL import Image

    from underact.agents.backends import EVAL_KEY
    from underact.agents.render import render_episode
    from underact.agents.rollout import derived_seed
    from underact.agents.runfolder import load_genome

    frames = render_episode(config, load_genome(out), seed=0)
    env = make_env_spec(config).make(1)
    env.reset(seed=derived_seed(0, EVAL_KEY, 1))
    scene = env.unwrapped.task.render(env.unwrapped.state, 320, 160, fixed_camera=True)[0]
    seen = env.unwrapped.frames()[0]
    env.close()
    assert frames[0].shape == (160, 320 + 6 + 10 * SIZE, 3)
    np.testing.assert_array_equal(frames[0][:, :320], scene)
    np.testing.assert_array_equal(frames[0][:, 326::10][: SIZE * 10 : 10], seen)
    assert 2 <= len(frames) <= 501
    with Image.open(gif) as video:
        assert video.size == (486, 160) and video.n_frames == len(frames)


def test_bad_encoder_is_one_line_exit_2_and_writes_nothing(tmp_path, supcon_file, capsys):
    path, _ = supcon_file
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"not a safetensors file")
    cases = {
        f"supcon:{tmp_path / 'missing.safetensors'}": "no encoder file there",
        f"supcon:{corrupt}": "corrupted encoder file",
        f"reformer:{path}": "not a reformer encoder file",
        "pixels": "encoder must be supcon:PATH or reformer:PATH",
    }
    for spec, message in cases.items():
        out = tmp_path / "never"
        assert main(["train", "--env", ENV, "--encoder", spec, "--out", str(out), *TINY]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("underact: error:") and message in err and "\n" not in err, err
        assert not out.exists()
    clash = ["--env-kwargs", '{"width": 32}', "--encoder", f"supcon:{path}"]
    assert main(["train", "--env", ENV, *clash, "--out", str(tmp_path / "never"), *TINY]) == 2
    assert "differ from the ones encoder" in capsys.readouterr().err
