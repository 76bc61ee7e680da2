"""Same ES budget, several observations: a Hebbian agent behind each encoder file, and one given the true state.

`compare` evolves the same plastic network (inputs, hidden, 1) behind each observation choice with the trainer's
ES loop (`underact.agents.trainer.evolve`) and scores its center on fresh episodes; the perception scripts
(`pixels_supcon.py`, `history_reformer.py`) call it with the encoders they train. Run alone, it compares the true
state with the encoder files given (`supcon:PATH` or `reformer:PATH`, as for `underact train --encoder`):

    python scripts/compare_encoders.py --encoder reformer:scripts/figures/history_reformer_encoder.safetensors
    python scripts/compare_encoders.py --generations 3 --population 8     # the true state only
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import underact.envs  # noqa: F401  (registers underact/... ids)
from underact.agents.backends import evaluate_in
from underact.agents.build import encoded_sizes
from underact.agents.es import ESConfig
from underact.agents.hebbian import RULES, PlasticNet
from underact.agents.perception.encoded import EncodedEnvSpec
from underact.agents.rollout import EnvSpec, space_sizes
from underact.agents.trainer import evolve

ENV_ID = "underact/CartPoleBalance-v0"


def compare(
    agents: dict[str, tuple[EnvSpec, int]],
    *,
    hidden: int,
    rule: str,
    generations: int,
    population: int,
    episodes: int,
    eval_episodes: int,
    seed: int,
    sigma: float = 0.1,
    lr: float = 0.05,
) -> tuple[dict[str, list[float]], dict[str, np.ndarray]]:
    """Evolves the same plastic network (inputs, hidden, 1) behind each named (spec, inputs) with the same ES
    budget (`underact.agents.trainer.evolve`, the trainer's ES loop) and scores its center on `eval_episodes`
    fresh episodes: (learning curves, scores), printed as it goes."""
    curves, scores = {}, {}
    for name, (spec, n_in) in agents.items():
        net = PlasticNet((n_in, hidden, 1), rule)
        t0 = time.perf_counter()
        es_config = ESConfig(population=population, sigma=sigma, lr=lr, seed=seed)
        center, curves[name] = evolve(spec, net, es_config, generations, episodes)
        scores[name] = evaluate_in(spec, net, center, eval_episodes, seed + 1)
        print(
            f"{name:>16}: center return {scores[name].mean():6.1f} +- {scores[name].std():5.1f} over "
            f"{eval_episodes} fresh episodes (max 500; {time.perf_counter() - t0:.0f} s)"
        )
    return curves, scores


def add_budget_flags(parser: argparse.ArgumentParser, generations: int) -> None:
    """The flags of `compare`'s budget (`budget` reads them back): --hidden, --generations, --population,
    --episodes, --eval-episodes, --seed."""
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--generations", type=int, default=generations)
    parser.add_argument("--population", type=int, default=64)
    parser.add_argument("--episodes", type=int, default=2)
    parser.add_argument("--eval-episodes", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)


def budget(args: argparse.Namespace) -> dict[str, int]:
    """`compare`'s keyword arguments from the flags of `add_budget_flags`."""
    return {name: getattr(args, name) for name in ("hidden", "generations", "population", "episodes",
                                                   "eval_episodes", "seed")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", action="append", default=[], metavar="KIND:PATH",
                        help="an encoder file, supcon:PATH or reformer:PATH (repeat for several)")
    parser.add_argument("--rule", choices=RULES, default="ABCD_lr")
    add_budget_flags(parser, generations=40)
    args = parser.parse_args()
    if min(args.hidden, args.generations, args.population, args.episodes, args.eval_episodes) < 1:
        parser.error("sizes and counts must be positive")
    if args.population % 2:
        parser.error("--population must be even (mirrored sampling)")

    from underact.agents.perception.pipeline import load_encoder  # loads torch: after parsing, so --help is quick

    agents = {"true state": (EnvSpec(ENV_ID, {}), space_sizes(ENV_ID, {})[0])}
    for text in args.encoder:
        try:
            encoder = load_encoder(text)
        except ValueError as exc:
            parser.error(str(exc))
        spec = EncodedEnvSpec(ENV_ID, encoder.env_kwargs, wrap=encoder.wrap)
        kind, _, path = text.partition(":")
        agents[f"{kind} {Path(path).stem}"] = (spec, encoded_sizes(spec)[0])
    compare(agents, rule=args.rule, **budget(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
