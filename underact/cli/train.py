"""`underact train` and `underact evaluate`: Hebbian-plasticity agents trained by evolution strategies.

`train` writes a run folder (see `underact.agents.trainer` and `underact.agents.runfolder`); `evaluate` loads
its best (or latest) genome and plays episodes, each with freshly sampled random weights, optionally rendering one
to a GIF.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import MISSING, Field, fields
from pathlib import Path

import numpy as np

from underact.cli import argtypes
from underact.errors import UnderactError


def register(subparsers) -> None:
    """Adds the `train` and `evaluate` sub-commands."""
    p = subparsers.add_parser(
        "train",
        help="evolve Hebbian (or static) agents with OpenAI-ES",
        description="Evolve Hebbian-plasticity (or static-weight) agents with OpenAI-ES.",
    )
    from underact.agents.config import flag_name

    for f in setting_fields():
        p.add_argument(flag_name(f), **_flag_options(f))
    p.add_argument("--out", type=Path, help="new run folder")
    p.add_argument(
        "--resume",
        type=Path,
        metavar="DIR",
        help="continue the run in DIR with its own settings; --generations N trains on to N generations (past an "
        "early stop at the target return too), --target-return sets a new target (none: no early stop)",
    )
    p.add_argument("--json", action="store_true", help="print a one-line JSON summary at the end")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_train)

    e = subparsers.add_parser(
        "evaluate",
        help="play a trained run's agent with fresh random weights",
        description="Evaluate a run's agent; every episode starts from fresh random weights.",
    )
    e.add_argument("run", type=Path, help="run folder written by `underact train`")
    e.add_argument("--episodes", type=argtypes.count(), default=100)
    e.add_argument("--checkpoint", choices=("best", "latest"), default="best")
    e.add_argument("--seed", type=argtypes.seed, default=0)
    e.add_argument("--render", type=argtypes.output_file(".gif"), metavar="FILE.gif",
                   help="render one episode to an animated GIF")
    e.add_argument("--html", type=argtypes.output_file(".html", ".htm"), metavar="FILE.html",
                   help="one episode as an offline 3-D Meshcat replay (underact/... environments)")
    e.add_argument("--json", action="store_true", help="print {mean_return, std_return, episodes}")
    e.set_defaults(func=_evaluate)


def setting_fields() -> list[Field]:
    """The `TrainConfig` fields that are `train` flags (the others say "cli": False in their metadata)."""
    from underact.agents.config import TrainConfig

    return [f for f in fields(TrainConfig) if f.metadata.get("cli", True)]


def _flag_options(f: Field) -> dict:
    """`add_argument` options for a field's flag. Every default is None, so that a flag left out is told apart from
    one given with the default's value (`train --resume` refuses given values that contradict the run's)."""
    meta = f.metadata
    default = f.default_factory() if f.default_factory is not MISSING else f.default
    shown = ",".join(map(str, default)) if isinstance(default, tuple) else str(default)
    options = {"dest": f.name, "default": None, "help": meta["help"].replace("{default}", shown)}
    if isinstance(default, bool):
        options["action"] = "store_false" if default else "store_true"
    elif "type" in meta:
        options["type"] = getattr(argtypes, meta["type"])
    elif type(default) in (int, float):
        options["type"] = type(default)
    options.update({key: meta[key] for key in ("choices", "metavar") if key in meta})
    return options


def _given_settings(args: argparse.Namespace) -> dict:
    """The `TrainConfig` fields the user set on the command line (flags left out are None)."""
    return {f.name: getattr(args, f.name) for f in setting_fields() if getattr(args, f.name) is not None}


def _train(args: argparse.Namespace) -> int:
    from underact.agents.trainer import TrainConfig, train

    try:
        given = _given_settings(args)
        if args.resume is not None:
            if args.out is not None:
                raise UnderactError("give either --out (new run) or --resume DIR, not both")
            generations, target_return = given.pop("generations", None), given.pop("target_return", None)
            summary = train(resume=args.resume, generations=generations, target_return=target_return, settings=given,
                            progress=not args.quiet)
        else:
            if args.out is None:
                raise UnderactError("--out DIR is required for a new run (or --resume DIR)")
            summary = train(TrainConfig(**given), out=args.out, progress=not args.quiet)
    except ValueError as exc:
        raise UnderactError(str(exc)) from None
    except OSError as exc:
        raise _os_error(exc) from None
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"{summary['run']}: {summary['generations']} generations, best center return "
            f"{summary['best_return']:.1f}, evaluated mean {summary['eval_mean_return']:.1f} "
            f"over fresh-weight episodes, {summary['env_steps']} env steps, {summary['wall_s']:.1f} s"
        )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from underact.agents.backends import evaluate_genome
    from underact.agents.runfolder import load_genome, read_config

    try:
        genome = load_genome(args.run, args.checkpoint)  # verified against the run's manifest, finite
        config = read_config(args.run)
        returns = evaluate_genome(config, genome, args.episodes, args.seed)
        if args.render is not None:
            from underact.agents.render import write_episode_gif

            write_episode_gif(args.render, config, genome, args.seed)
        if args.html is not None:
            _write_episode_html(args.html, config, genome, args.seed)
    except ValueError as exc:
        raise UnderactError(str(exc)) from None
    except OSError as exc:
        raise _os_error(exc) from None
    summary = {"mean_return": float(returns.mean()), "std_return": float(returns.std()), "episodes": args.episodes}
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"{args.run}: mean return {summary['mean_return']:.2f} ± {summary['std_return']:.2f} "
            f"over {args.episodes} fresh-weight episodes"
        )
    if args.render is not None:
        print(f"wrote {args.render}", file=sys.stderr)
    if args.html is not None:
        print(f"wrote {args.html}", file=sys.stderr)
    return 0


def _write_episode_html(path: Path, config, genome: np.ndarray, seed: int) -> None:
    """The episode `--render` plays, its states recorded instead of drawn, replayed in Meshcat at the env's dt."""
    import gymnasium as gym

    from underact.agents.backends import EVAL_KEY
    from underact.agents.render import _play
    from underact.agents.rollout import derived_seed, to_actions
    from underact.view import write_replay_html

    if not config.env.startswith("underact/"):
        raise UnderactError(f"--html replays runs on underact/... environments; {config.env} is not one (use "
                            "--render FILE.gif)")
    if config.encoder is not None:
        raise UnderactError("--html replays runs without an encoder; this run has one (use --render FILE.gif)")
    env = gym.make(config.env, **config.env_kwargs)
    try:
        base = env.unwrapped
        obs, _ = env.reset(seed=derived_seed(seed, EVAL_KEY, 1))

        def step(out: np.ndarray) -> tuple[np.ndarray, bool]:
            obs, _, terminated, truncated, _ = env.step(to_actions(out, env.action_space)[0])
            return obs, terminated or truncated

        states = np.array(_play(config, genome, seed, obs, step, lambda: np.array(base.state), 500))
    finally:
        env.close()
    nq = states.shape[1] // 2
    write_replay_html(base.task.name, base.dt * np.arange(len(states)), states[:, :nq], path)


def _os_error(exc: OSError) -> UnderactError:
    """A failed read or write (read-only folder, full disk, ...) as one line naming the path and the reason."""
    where = exc.filename if exc.filename is not None else "a run folder file"
    return UnderactError(f"cannot write or read {where}: {exc.strerror or exc}")
