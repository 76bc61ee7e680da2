"""`underact train` and `underact evaluate`: Hebbian-plasticity agents trained by evolution strategies.

`train` writes a run folder (see `underact.agents.trainer` and `underact.agents.runfolder`); `evaluate` loads
its best (or latest) genome and plays episodes, each with freshly sampled random weights, optionally rendering one
to a GIF.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from underact.errors import UnderactError


def _hidden(text: str) -> tuple[int, ...]:
    if text.strip().lower() == "none":
        return ()
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected layer sizes like 128,64 (or none), got {text!r}") from None
    if min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive layer sizes like 128,64, got {text!r}")
    return sizes


def _target(text: str) -> float | str:
    if text in ("auto", "none"):
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, 'auto' or 'none', got {text!r}") from None


def register(subparsers) -> None:
    """Adds the `train` and `evaluate` sub-commands."""
    from underact.agents.config import RULES, TrainConfig

    d = TrainConfig()
    p = subparsers.add_parser(
        "train",
        help="evolve Hebbian (or static) agents with OpenAI-ES",
        description="Evolve Hebbian-plasticity (or static-weight) agents with OpenAI-ES.",
    )
    p.add_argument("--env", default=None, help=f"Gymnasium id (default {d.env}); underact/... ids included")
    p.add_argument("--rule", default=None, help=f"one of {', '.join(RULES)} (default {d.rule})")
    p.add_argument(
        "--hidden",
        type=_hidden,
        default=None,
        help=f"hidden layer sizes, e.g. 128,64, or none for no hidden layer (default {','.join(map(str, d.hidden))})",
    )
    p.add_argument("--norm", action="store_true", default=None,
                   help="normalise each layer's weights by their max |w| every step")
    p.add_argument("--population", type=int, default=None, help=f"default {d.population}")
    p.add_argument("--generations", type=int, default=None, help=f"default {d.generations}")
    p.add_argument("--episodes", type=int, default=None, help=f"episodes per individual (default {d.episodes})")
    p.add_argument("--sigma", type=float, default=None, help=f"ES noise std (default {d.sigma})")
    p.add_argument("--lr", type=float, default=None, help=f"ES step size (default {d.lr})")
    p.add_argument("--sigma-decay", type=float, default=None, help=f"default {d.sigma_decay}")
    p.add_argument("--lr-decay", type=float, default=None, help=f"default {d.lr_decay}")
    p.add_argument("--l2", type=float, default=None, help=f"L2 penalty on the center (default {d.l2})")
    p.add_argument("--optimizer", choices=("adam", "sgd"), default=None, help=f"default {d.optimizer}")
    p.add_argument("--no-antithetic", action="store_true", default=None,
                   help="plain Gaussian sampling instead of mirrored")
    p.add_argument(
        "--target-return",
        type=_target,
        default=None,
        help="stop once the ES center's mean return reaches this: a number, 'none', or 'auto' "
        "(the environment's reward_threshold, e.g. 475 for CartPole-v1; the default)",
    )
    p.add_argument(
        "--eval-episodes",
        type=int,
        default=None,
        help=f"fresh-weight episodes for the final evaluation (default {d.eval_episodes})",
    )
    p.add_argument("--seed", type=int, default=None, help=f"default {d.seed}")
    p.add_argument("--backend", choices=("local", "ray"), default=None, help=f"default {d.backend}")
    p.add_argument("--address", default=None, help="Ray cluster address (ray.init(address=...))")
    p.add_argument("--workers", type=int, default=None, help=f"Ray workers (default {d.workers})")
    p.add_argument(
        "--vectorization",
        choices=("auto", "native", "sync", "async"),
        default=None,
        help="vector environment: native vector_entry_point (auto when available), sync or async",
    )
    p.add_argument("--env-kwargs", default=None, help="JSON object of make() keyword arguments (default {})")
    p.add_argument(
        "--morphologies",
        default=None,
        help="JSON list of bodies, each a JSON object of make() keyword arguments over --env-kwargs, e.g. "
        "'[{\"damage\": null}, {\"damage\": \"front_right\"}]'; fitness is the mean return over them",
    )
    p.add_argument(
        "--encoder",
        metavar="supcon:PATH|reformer:PATH",
        help="a frozen encoder file in front of the agent; it carries its observation wrappers (supcon: rendered "
        "frames, grey, the last k stacked; reformer: hidden velocities, the last k positions) "
        "(see underact.agents.perception.pipeline)",
    )
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
    e.add_argument("--episodes", type=int, default=100)
    e.add_argument("--checkpoint", choices=("best", "latest"), default="best")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--render", type=Path, metavar="FILE.gif", help="render one episode to an animated GIF")
    e.add_argument("--html", type=Path, metavar="FILE.html",
                   help="one episode as an offline 3-D Meshcat replay (underact/... environments)")
    e.add_argument("--json", action="store_true", help="print {mean_return, std_return, episodes}")
    e.set_defaults(func=_evaluate)


def _absolute_encoder(text: str | None) -> str | None:
    """KIND:PATH with PATH made absolute, so that a run resumes from any directory."""
    if text is None or ":" not in text:
        return text
    kind, path = text.split(":", 1)
    return f"{kind}:{Path(path).expanduser().absolute()}" if path else text


#: `train` flags that set a `TrainConfig` field of the same name (the others: --no-antithetic, --env-kwargs,
#: --morphologies, --encoder, converted in `_given_settings`; --generations and --target-return, which a resumed
#: run may change).
SETTING_FLAGS = ("env", "rule", "hidden", "norm", "population", "episodes", "sigma", "lr", "sigma_decay", "lr_decay",
                 "l2", "optimizer", "seed", "eval_episodes", "backend", "address", "workers", "vectorization")


def _given_settings(args: argparse.Namespace) -> dict:
    """The `TrainConfig` fields the user set on the command line (flags left out are None), as the config holds them."""
    given = {name: getattr(args, name) for name in SETTING_FLAGS if getattr(args, name) is not None}
    if args.no_antithetic:
        given["antithetic"] = False
    if args.env_kwargs is not None:
        try:
            env_kwargs = json.loads(args.env_kwargs)
        except json.JSONDecodeError as exc:
            raise UnderactError(f"--env-kwargs must be a JSON object: {exc.msg}") from None
        if not isinstance(env_kwargs, dict):
            raise UnderactError("--env-kwargs must be a JSON object like '{\"length\": 1.0}'")
        given["env_kwargs"] = env_kwargs
    if args.morphologies is not None:
        given["morphologies"] = _morphologies(args.morphologies)
    if args.encoder is not None:
        given["encoder"] = _absolute_encoder(args.encoder)
    return given


def _train(args: argparse.Namespace) -> int:
    from underact.agents.trainer import TrainConfig, train

    try:
        given = _given_settings(args)
        if args.resume is not None:
            if args.out is not None:
                raise UnderactError("give either --out (new run) or --resume DIR, not both")
            summary = train(resume=args.resume, generations=args.generations, target_return=args.target_return,
                            settings=given, progress=not args.quiet)
        else:
            if args.out is None:
                raise UnderactError("--out DIR is required for a new run (or --resume DIR)")
            d = TrainConfig()
            config = TrainConfig(
                **given,
                generations=args.generations if args.generations is not None else d.generations,
                target_return=args.target_return if args.target_return is not None else d.target_return,
            )
            summary = train(config, out=args.out, progress=not args.quiet)
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

    if args.episodes < 1:
        raise UnderactError(f"--episodes must be at least 1, got {args.episodes}")
    if args.render is not None:
        _check_gif_path(args.render)  # before any work
    if args.html is not None:
        from underact.view.page import check_html_path

        check_html_path(args.html, "--html")
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


def _morphologies(text: str) -> list[dict]:
    """--morphologies: a non-empty JSON list of objects, or a one-line error."""
    try:
        bodies = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnderactError(f"--morphologies must be a JSON list of objects: {exc.msg}") from None
    if not isinstance(bodies, list) or not bodies or not all(isinstance(m, dict) for m in bodies):
        raise UnderactError("--morphologies must be a JSON list of objects, at least one, like '[{\"damage\": null}]'")
    return bodies


def _check_gif_path(path: Path) -> None:
    if path.suffix.lower() != ".gif":
        raise UnderactError(f"--render expects a .gif file name, got {path}")
    if not path.parent.is_dir():
        raise UnderactError(f"--render: folder {path.parent} does not exist")


def _os_error(exc: OSError) -> UnderactError:
    """A failed read or write (read-only folder, full disk, ...) as one line naming the path and the reason."""
    where = exc.filename if exc.filename is not None else "a run folder file"
    return UnderactError(f"cannot write or read {where}: {exc.strerror or exc}")
