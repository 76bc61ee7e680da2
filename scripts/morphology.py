"""Morphology study: do Hebbian agents cope with bodies they were not trained on better than static ones?

Najarro & Risi (2020) report that Hebbian networks, whose weights self-organise during each episode, keep
working when the body changes. Scaled down: train an `ABCD_lr` Hebbian agent and a `static` agent (same
network size, same ES settings and budget) on our cart-pole and acrobot with nominal parameters, then
evaluate both, with fresh episodes, on unseen variants: pole / link length × 0.5 … 2, masses × 0.5 … 2, and
a damaged actuator delivering a fraction of the commanded force. The task's reference controller
(`underact.envs.reference`), designed for the nominal body, is the third column: what a textbook controller that
does not know the change scores. Prints a table, writes morphology.csv and morphology.png into --out.

    python scripts/morphology.py --out runs/morph                       # both systems, balance tasks
    python scripts/morphology.py --systems cartpole --generations 60 --out runs/morph-cp
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import matplotlib
import numpy as np

from underact.agents import TrainConfig, evaluate_genome, is_run, load_genome, read_config, train
from underact.envs.reference import evaluate as evaluate_reference
from underact.plants.analytic import PARAMS

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ENV_IDS = {
    "cartpole": {"balance": "underact/CartPoleBalance-v0", "swingup": "underact/CartPoleSwingUp-v0"},
    "acrobot": {"balance": "underact/AcrobotBalance-v0", "swingup": "underact/AcrobotSwingUp-v0"},
}
# Nominal parameters (DESIGN.md): cart-pole mc=10, mp=1, l=0.5; acrobot m2=1, l2=2, lc2=1, Ic2=0.33.


def variants(system: str) -> list[tuple[str, dict]]:
    """(label, make() kwargs) of the evaluation bodies; the first is the nominal one."""
    out: list[tuple[str, dict]] = [("nominal", {})]
    if system == "cartpole":
        out += [(f"pole length x{s:g}", {"l": 0.5 * s}) for s in (0.5, 0.75, 1.5, 2.0)]
        out += [(f"pole mass x{s:g}", {"mp": 1.0 * s}) for s in (0.5, 2.0)]
        out += [(f"cart mass x{s:g}", {"mc": 10.0 * s}) for s in (0.5, 2.0)]
    else:  # stretch the second link: its length, centre of mass and inertia (∝ m l²) together
        out += [
            (f"link-2 length x{s:g}", {"l2": 2.0 * s, "lc2": 1.0 * s, "Ic2": 0.33 * s**2}) for s in (0.5, 0.75, 1.5)
        ]
        out += [(f"link-2 mass x{s:g}", {"m2": 1.0 * s, "Ic2": 0.33 * s}) for s in (0.5, 2.0)]
    out += [(f"actuator gain {g:g}", {"actuator_gain": g}) for g in (0.5, 0.25)]
    return out


def train_or_load(folder: Path, config: TrainConfig) -> np.ndarray:
    """Trains into `folder` unless it already holds a run (then its best genome is reused)."""
    if not is_run(folder):
        summary = train(config, out=folder)
        print(json.dumps(summary))
    return load_genome(folder)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("runs/morphology"))
    ap.add_argument("--systems", default="cartpole,acrobot", help="comma-separated: cartpole, acrobot")
    ap.add_argument("--task", choices=("balance", "swingup"), default="balance")
    ap.add_argument("--hidden", default="16", help="hidden sizes (comma-separated)")
    ap.add_argument("--population", type=int, default=64)
    ap.add_argument("--generations", type=int, default=60)
    ap.add_argument("--episodes", type=int, default=4, help="training episodes per individual")
    ap.add_argument("--eval-episodes", type=int, default=50, help="evaluation episodes per body")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    hidden = tuple(int(h) for h in args.hidden.split(",") if h)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for system in [s.strip() for s in args.systems.split(",") if s.strip()]:
        if system not in ENV_IDS:
            raise SystemExit(f"morphology.py: error: unknown system {system!r}; expected cartpole or acrobot")
        env_id = ENV_IDS[system][args.task]
        genomes = {}
        for rule in ("ABCD_lr", "static"):
            config = TrainConfig(
                env=env_id,
                rule=rule,
                hidden=hidden,
                population=args.population,
                generations=args.generations,
                episodes=args.episodes,
                seed=args.seed,
                target_return="none",
                eval_episodes=args.eval_episodes,
            )
            genomes[rule] = train_or_load(args.out / f"{system}-{args.task}-{rule}", config)
        for label, kwargs in variants(system):
            row = {"system": system, "variant": label}
            for rule, genome in genomes.items():
                config = read_config(args.out / f"{system}-{args.task}-{rule}")
                config.env_kwargs = dict(kwargs)
                returns = evaluate_genome(config, genome, args.eval_episodes, args.seed + 1)
                row[f"{rule}_mean"], row[f"{rule}_std"] = float(returns.mean()), float(returns.std())
            returns = evaluate_reference(env_id, args.eval_episodes, args.seed + 1, design=PARAMS[system](), **kwargs)
            row["reference_mean"], row["reference_std"] = float(returns.mean()), float(returns.std())
            rows.append(row)
            print(
                f"{system:9s} {label:22s} Hebbian {row['ABCD_lr_mean']:8.1f} ± {row['ABCD_lr_std']:6.1f}   "
                f"static {row['static_mean']:8.1f} ± {row['static_std']:6.1f}   "
                f"reference {row['reference_mean']:8.1f} ± {row['reference_std']:6.1f}",
                flush=True,
            )

    with (args.out / "morphology.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    systems = sorted({r["system"] for r in rows}, key=[r["system"] for r in rows].index)
    fig, axes = plt.subplots(len(systems), 1, figsize=(9, 3.6 * len(systems)), squeeze=False)
    for ax, system in zip(axes[:, 0], systems, strict=True):
        sub = [r for r in rows if r["system"] == system]
        x = np.arange(len(sub))
        bars = (
            (-0.27, "ABCD_lr", "Hebbian ABCD_lr"),
            (0.0, "static", "static weights"),
            (0.27, "reference", "reference controller (nominal design)"),
        )
        for shift, rule, name in bars:
            ax.bar(
                x + shift,
                [r[f"{rule}_mean"] for r in sub],
                0.27,
                yerr=[r[f"{rule}_std"] for r in sub],
                label=name,
                capsize=2,
            )
        ax.set_xticks(x, [r["variant"] for r in sub], rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("mean episode return")
        ax.set_title(f"{ENV_IDS[system][args.task]}: trained on the nominal body", fontsize=9)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out / "morphology.png", dpi=100)
    print(f"wrote {args.out / 'morphology.csv'} and {args.out / 'morphology.png'}")


if __name__ == "__main__":
    main()
