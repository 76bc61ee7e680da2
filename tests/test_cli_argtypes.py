"""The command line's argument types (`underact.cli.argtypes`) and `train`'s flags generated from `TrainConfig`."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest

from underact.agents.config import TrainConfig, flag_name
from underact.cli import argtypes, build_parser, main
from underact.cli.train import setting_fields


@pytest.mark.parametrize(
    ("convert", "text", "value"),
    [
        (argtypes.vector, "-0.3,0.2", (-0.3, 0.2)),
        (argtypes.vector, " 1 , 2 ", (1.0, 2.0)),
        (argtypes.vector, "", ()),
        (argtypes.count(), "7", 7),
        (argtypes.count(10), "10", 10),
        (argtypes.seed, "0", 0),
        (argtypes.seed, str(2**70), 2**70),
        (argtypes.tolerance, "0", 0.0),
        (argtypes.tolerance, "1e-8", 1e-8),
        (argtypes.seconds(600), "600", 600.0),
        (argtypes.names(("drake", "mujoco", "pinocchio"), "engine", 2), "drake, mujoco", ["drake", "mujoco"]),
        (argtypes.layer_sizes, "128,64", (128, 64)),
        (argtypes.layer_sizes, "None", ()),
        (argtypes.target_return, "auto", "auto"),
        (argtypes.target_return, "475", 475.0),
        (argtypes.json_object, '{"length": 1.0}', {"length": 1.0}),
        (argtypes.json_objects, '[{"damage": null}]', [{"damage": None}]),
        (argtypes.encoder, "supcon", "supcon"),
    ],
)
def test_types_accept_good_values(convert, text, value):
    assert convert(text) == value


@pytest.mark.parametrize(
    ("convert", "text", "message"),
    [
        (argtypes.vector, "x,1", "must be comma-separated numbers, e.g. 0.3,-0.2; got 'x,1'"),
        (argtypes.vector, "nan,0", "values must be finite; got 'nan,0'"),
        (argtypes.count(), "0", "must be a positive integer; got '0'"),
        (argtypes.count(10), "11", "must be an integer from 1 to 10; got '11'"),
        (argtypes.count(10), "1e1", "must be an integer from 1 to 10; got '1e1'"),
        (argtypes.seed, "-1", "must be a non-negative integer; got '-1'"),
        (argtypes.seed, "x", "must be a non-negative integer; got 'x'"),
        (argtypes.tolerance, "-1", "must be a finite number >= 0; got '-1'"),
        (argtypes.tolerance, "inf", "must be a finite number >= 0; got 'inf'"),
        (argtypes.seconds(600), "0", "must be a number of seconds in (0, 600]; got '0'"),
        (argtypes.seconds(600), "nan", "must be a number of seconds in (0, 600]; got 'nan'"),
        (argtypes.names(("drake", "mujoco"), "engine", 2), "drake,ode",
         "unknown engine 'ode'; choose 2 or more of drake, mujoco"),
        (argtypes.names(("drake", "mujoco"), "engine", 2), "drake,drake",
         "needs 2 or more different engines, e.g. drake,mujoco; got 'drake,drake'"),
        (argtypes.layer_sizes, "0", "expected positive layer sizes like 128,64, got '0'"),
        (argtypes.layer_sizes, "a", "expected layer sizes like 128,64 (or none), got 'a'"),
        (argtypes.target_return, "soon", "expected a number, 'auto' or 'none', got 'soon'"),
        (argtypes.json_object, "[]", "must be a JSON object like '{\"length\": 1.0}'"),
        (argtypes.json_object, "{", "must be a JSON object: Expecting property name enclosed in double quotes"),
        (argtypes.json_objects, "[]", "must be a JSON list of objects, at least one, like '[{\"damage\": null}]'"),
    ],
)
def test_types_refuse_bad_values_in_one_line(convert, text, message):
    with pytest.raises(argparse.ArgumentTypeError) as info:
        convert(text)
    assert str(info.value) == message


def test_encoder_paths_become_absolute():
    assert argtypes.encoder("reformer:enc.safetensors") == f"reformer:{Path('enc.safetensors').absolute()}"


def test_output_file(tmp_path):
    gif = argtypes.output_file(".gif")
    assert gif(str(tmp_path / "a.GIF")) == tmp_path / "a.GIF"
    (tmp_path / "dir.gif").mkdir()
    for text, problem in [
        (tmp_path / "a.png", "the file name must end in .gif"),
        (tmp_path / "dir.gif", "exists and is not a regular file; give a new .gif file name"),
        (tmp_path / "no" / "a.gif", f"the folder {tmp_path / 'no'} does not exist"),
    ]:
        with pytest.raises(argparse.ArgumentTypeError) as info:
            gif(str(text))
        assert str(info.value) == f"{text}: {problem}"
    assert argtypes.output_file(".html", ".htm")(str(tmp_path / "a.htm")) == tmp_path / "a.htm"


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["analyze", "acrobot", "--seed", "-1"], "argument --seed: must be a non-negative integer; got '-1'"),
        (["equation", "acrobot", "--q", "-0.3,x"], "argument --q: must be comma-separated numbers, e.g. 0.3,-0.2; "
         "got '-0.3,x'"),
        (["demo", "--states", "0"], "argument --states: must be an integer from 1 to 10000; got '0'"),
        (["simulate", "acrobot", "--duration", "601"],
         "argument --duration: must be a number of seconds in (0, 600]; got '601'"),
        (["evaluate", "run", "--episodes", "0"], "argument --episodes: must be a positive integer; got '0'"),
        (["train", "--hidden", "0", "--out", "x"], "argument --hidden: expected positive layer sizes like 128,64, "
         "got '0'"),
        (["train", "--env-kwargs", "[]", "--out", "x"],
         "argument --env-kwargs: must be a JSON object like '{\"length\": 1.0}'"),
    ],
)
def test_a_bad_value_is_one_line_and_exit_2(capsys, argv, line):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err == f"underact: error: {line}\n"


def _train_actions() -> dict[str, argparse.Action]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {flag: action for action in sub.choices["train"]._actions for flag in action.option_strings}


def test_every_train_config_field_is_a_flag_or_marked_not_one():
    actions = _train_actions()
    flags = {f.name: flag_name(f) for f in setting_fields()}
    for f in dataclasses.fields(TrainConfig):
        if f.name not in flags:
            assert f.metadata.get("cli") is False, f"{f.name} is no flag of `train` and not marked cli: False"
            continue
        action = actions[flags[f.name]]
        assert action.dest == f.name and action.default is None  # None: not given (train --resume)
        help_text = f.metadata["help"]
        if "{default}" in help_text:
            shown = ",".join(map(str, f.default)) if isinstance(f.default, tuple) else str(f.default)
            help_text = help_text.replace("{default}", shown)
        assert action.help == help_text
    assert len(flags) == 24
    assert flags["antithetic"] == "--no-antithetic" and flags["target_return"] == "--target-return"


SUMMARY = {"run": "r", "generations": 1, "best_return": 0.0, "eval_mean_return": 0.0, "env_steps": 0, "wall_s": 0.0}


def test_train_flags_become_the_config(tmp_path, monkeypatch):
    """Given flags set their fields (switches included), the others keep TrainConfig's defaults."""
    import underact.agents.trainer as trainer

    seen = {}
    monkeypatch.setattr(trainer, "train", lambda config=None, **kw: seen.update(config=config, **kw) or SUMMARY)
    argv = ["train", "--hidden", "8,4", "--no-antithetic", "--norm", "--population", "6", "--target-return", "none",
            "--env-kwargs", '{"a": 1}', "--out", str(tmp_path / "r"), "--json"]
    assert main(argv) == 0
    expected = TrainConfig(hidden=(8, 4), antithetic=False, norm=True, population=6, target_return="none",
                           env_kwargs={"a": 1})
    assert seen["config"] == expected and seen["out"] == tmp_path / "r"


def test_resume_passes_only_the_given_flags(tmp_path, monkeypatch):
    import underact.agents.trainer as trainer

    seen = {}
    monkeypatch.setattr(trainer, "train", lambda config=None, **kw: seen.update(kw) or SUMMARY)
    assert main(["train", "--resume", str(tmp_path), "--generations", "9", "--seed", "0", "--json"]) == 0
    assert seen["generations"] == 9 and seen["target_return"] is None and seen["settings"] == {"seed": 0}
