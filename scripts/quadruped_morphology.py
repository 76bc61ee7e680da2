"""Najarro & Risi's quadruped with a damaged leg: Hebbian (ABCD_lr) and static networks trained on the intact ant
and a damaged front-right leg, tested on those and on a front-left damage never seen in training
(`underact/AntDamaged-v0`, Gymnasium's Ant-v5 with `damage=...`; see `underact.envs.ant`).

`--protocol paper` (the default) is the paper's protocol on MuJoCo (`underact.agents.paper` lists every
setting and where it lives): fitness = metres walked along +x in 16.5 s (330 steps of 0.05 s, no alive bonus or
costs), 13 zero-action burn-in steps, the early stop after 3.3 s (a fall below z = 0.26 m, or 0.5 s of negative
progress; the static baseline trains on full episodes, as in the paper's code), observation clipped to ±5, the
network obs → 128 → 64 → 8 (tanh, no biases), ABCD_lr with per-synapse η and fresh U(−0.1, 0.1) weights every
episode, OpenAI-ES with mirrored sampling, centred ranks / std, plain SGD (σ 0.1 ×0.999 ≥ 0.01, lr 0.2 ×0.995
≥ 0.001), coefficients from N(0, 1), fitness − 0.01·mean(genome²); damage = a lower leg cut to a quarter. Each
individual's fitness is its mean over the intact body and the front-right damage. Both rules get the same
population and generations; two ablations run at that budget on seed 0 (per-layer weight normalisation, and the
anti-diagonal rule sharing of the paper's code before its October 2020 fix). Each run's best center then walks
--episodes fresh 16.5 s episodes per body, without the early stop (the same start states for every rule, so the
unseen-damage comparison is paired per episode).

`--protocol ant-v5` is the earlier comparison on Ant-v5's own reward (+1 per healthy step, control and contact
costs) over 200-step episodes, hidden 32, ES with Adam.

Writes to --out one run folder per run (metrics.csv, curve.png, best.safetensors), curves.png, weight_norms.png
(the seed-0 Hebbian agent's per-layer weight norms on the unseen damage), hebbian_front_left.gif (that episode,
where MuJoCo can draw here; one line says what to install where it cannot) and results.json; with the paper
protocol also the record docs/benchmarks/quadruped.json and its figures scripts/figures/quadruped_* (--no-record
skips them).

    python scripts/quadruped_morphology.py                                  # about an hour on 2 cores
    python scripts/quadruped_morphology.py --generations 2 --population 4 --seeds 1 --episodes 2 --no-record
    python scripts/quadruped_morphology.py --preset paper --backend ray --address HEAD:6379 --workers 64
    python scripts/quadruped_morphology.py --protocol ant-v5 --out results/quadruped-ant-v5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

from underact.errors import one_line

ENV_ID = "underact/AntDamaged-v0"
BODIES = {"intact": None, "front-right damage (seen)": "front_right", "front-left damage (unseen)": "front_left"}
UNSEEN = "front-left damage (unseen)"
TRAINING = [{"damage": None}, {"damage": "front_right"}]
RULE_NAMES = {"ABCD_lr": "Hebbian ABCD_lr", "static": "static"}
ABLATIONS = {"norm": "ABCD_lr + weight normalisation", "antidiagonal": "ABCD_lr, rules shared on anti-diagonals"}
ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "docs" / "benchmarks" / "quadruped.json"
FIGURES = ROOT / "scripts" / "figures"
# The paper protocol's default budget, sized for about an hour on this 2-core VM shared with other jobs; see
# docs/guides/hebbian.md for the measured cost. The paper's own: population 200, 300 generations (--preset paper).
PRESETS = {"laptop": (24, 50), "paper": (200, 300)}
# The Ant-v5-reward comparison's budget (--protocol ant-v5), unchanged: population 48, 160 generations.
ANT_V5 = {"population": 48, "generations": 160, "episodes": 10, "train_episodes": 1, "steps": 200, "hidden": [32],
          "sigma": 0.05, "lr": 0.01, "hebbian_sigma": 0.01, "hebbian_lr": 0.002, "norm": False}


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--protocol", choices=["paper", "ant-v5"], default="paper", help="default paper")
    ap.add_argument("--preset", choices=list(PRESETS), default="laptop",
                    help="paper protocol budget: laptop (population {}, {} generations) or paper ({}, {})".format(
                        *PRESETS["laptop"], *PRESETS["paper"]))
    ap.add_argument("--generations", type=int, help="overrides the preset's")
    ap.add_argument("--population", type=int, help="overrides the preset's (even: mirrored sampling)")
    ap.add_argument("--seeds", type=int, default=3, help="seeds 0 … N-1 per rule (default 3)")
    ap.add_argument("--episodes", type=int, help="fresh test episodes per body and run (paper 100, ant-v5 10)")
    ap.add_argument("--rules", nargs="+", default=list(RULE_NAMES), choices=list(RULE_NAMES))
    ap.add_argument("--no-ablations", action="store_true", help="paper protocol: skip the two ablations")
    ap.add_argument("--backend", choices=["local", "ray"], default="local")
    ap.add_argument("--address", help="a Ray cluster's HOST:PORT (with --backend ray)")
    ap.add_argument("--workers", type=int, default=2, help="Ray workers (default 2)")
    ap.add_argument("--out", type=Path, default=Path("results/quadruped"))
    ap.add_argument("--no-gif", action="store_true", help="skip the GIF (the weight-norm plot is still drawn)")
    ap.add_argument("--no-record", action="store_true", help=f"do not write {RECORD.name} and its figures")
    old = ap.add_argument_group("--protocol ant-v5 only")
    old.add_argument("--train-episodes", type=int, help="episodes per individual and body (default 1)")
    old.add_argument("--steps", type=int, help="episode length limit (default 200)")
    old.add_argument("--hidden", type=int, nargs="+", help="hidden layer sizes (default 32)")
    old.add_argument("--sigma", type=float, help="ES noise std of the static rule (default 0.05)")
    old.add_argument("--lr", type=float, help="ES (Adam) step size of the static rule (default 0.01)")
    old.add_argument("--hebbian-sigma", type=float, help="ES noise std of ABCD_lr (default 0.01)")
    old.add_argument("--hebbian-lr", type=float, help="ES (Adam) step size of ABCD_lr (default 0.002)")
    old.add_argument("--norm", action="store_true", default=None, help="divide each layer's weights by max |w|")
    args = ap.parse_args()
    user_gl = os.environ.get("MUJOCO_GL")
    if user_gl and subprocess.run([sys.executable, "-c", "import mujoco"], capture_output=True).returncode:
        ap.error(f"MUJOCO_GL={user_gl}: MuJoCo cannot be imported with it here; unset it (this script chooses a "
                 "renderer only for the GIF) or install that backend's library (Debian: libosmesa6 for osmesa)")
    # MuJoCo reads MUJOCO_GL when first imported (the checks below import it): choose a renderer first
    args.gif = not args.no_gif and "ABCD_lr" in args.rules and renderer_available()
    given = [k for k in ANT_V5 if k not in ("population", "generations", "episodes") and getattr(args, k) is not None]
    if args.protocol == "paper" and given:
        ap.error(f"--{given[0].replace('_', '-')} belongs to --protocol ant-v5; the paper protocol fixes it")
    if args.protocol == "ant-v5":
        for k, v in ANT_V5.items():
            if getattr(args, k) is None:
                setattr(args, k, v)
        args.no_record = True  # the record holds the paper protocol; the Ant-v5 table in it is kept as it is
    else:
        population, generations = PRESETS[args.preset]
        args.population = population if args.population is None else args.population
        args.generations = generations if args.generations is None else args.generations
        args.episodes = 100 if args.episodes is None else args.episodes
    if args.address and args.backend != "ray":
        ap.error("--address needs --backend ray")
    try:
        if min(args.seeds, args.episodes) < 1:
            raise ValueError(f"--seeds and --episodes must be at least 1; got {args.seeds}, {args.episodes}")
        for _, config in planned(args):
            config.validate()
        args.out.mkdir(parents=True, exist_ok=True)
    except (ValueError, OSError) as exc:
        ap.error(str(exc))
    return args


def planned(args: argparse.Namespace) -> list[tuple[tuple[str, int], object]]:
    """Every run, as ((label, seed), TrainConfig); label is a rule name or an ablation."""
    runs = [((rule, seed), run_config(args, rule, seed)) for rule in args.rules for seed in range(args.seeds)]
    if args.protocol == "paper" and not args.no_ablations:
        runs.append((("norm", 0), run_config(args, "ABCD_lr", 0, norm=True)))
        runs.append((("antidiagonal", 0), run_config(args, "ABCD_lr", 0, sharing="antidiagonal")))
    return runs


def run_config(args: argparse.Namespace, rule: str, seed: int, norm: bool = False, sharing: str = "none"):
    from underact.agents.config import TrainConfig
    from underact.agents.paper import paper_config

    where = {"backend": args.backend, "address": args.address, "workers": args.workers}
    if args.protocol == "paper":
        config = paper_config(rule, seed, args.population, args.generations, norm=norm, rule_sharing=sharing)
        return replace(config, **where)
    return TrainConfig(
        env=ENV_ID,
        rule=rule,
        hidden=tuple(args.hidden),
        norm=args.norm,
        population=args.population,
        generations=args.generations,
        episodes=args.train_episodes,
        seed=seed,
        sigma=args.hebbian_sigma if rule == "ABCD_lr" else args.sigma,
        lr=args.hebbian_lr if rule == "ABCD_lr" else args.lr,
        target_return="none",
        eval_episodes=args.episodes,
        env_kwargs={"max_episode_steps": args.steps},
        morphologies=TRAINING,
        **where,
    )


def test_kwargs(args: argparse.Namespace, config) -> dict:
    """The test episodes' environment: the paper protocol's without the early stop (16.5 s for every agent)."""
    if args.protocol == "paper":
        from underact.agents.paper import protocol_kwargs

        return protocol_kwargs(early_stop=False)
    return dict(config.env_kwargs)


def body_returns(args, config, genome: np.ndarray) -> dict[str, np.ndarray]:
    """Returns of --episodes fresh episodes of `genome` on each body of `BODIES` (the same start states and
    fresh-weight seeds for every run of one seed)."""
    from underact.agents.backends import EVAL_KEY, evaluate_genome

    out = {}
    for name, damage in BODIES.items():
        body = replace(config, morphologies=[], env_kwargs={**test_kwargs(args, config), "damage": damage})
        out[name] = evaluate_genome(body, genome, args.episodes, config.seed, EVAL_KEY + 7)
    return out


def center_curve(folder: Path) -> list[float]:
    import csv

    with open(folder / "metrics.csv", newline="") as f:
        return [float(row["center_return"]) for row in csv.DictReader(f)]


def renderer_available() -> bool:
    """Chooses MuJoCo's OpenGL backend before MuJoCo is imported; False (and one line: what to install) where none
    draws here."""
    from underact.gl import choose_mujoco_gl

    try:
        choose_mujoco_gl()
    except ValueError as exc:
        print(f"no GIF: {exc}", flush=True)
        return False
    return True


def play_unseen(args, config, genome: np.ndarray, gif: Path | None, fps_divisor: int = 2) -> tuple[np.ndarray, float]:
    """One test episode of `genome` on the unseen front-left damage with fresh weights: (the per-layer Frobenius
    norms of the plastic weights at every step [steps + 1, layers], metres walked); a GIF of it at `gif` unless
    None."""
    import gymnasium as gym

    from underact.agents.backends import EVAL_KEY
    from underact.agents.build import make_net
    from underact.agents.rollout import derived_seed, to_actions

    kwargs = {**test_kwargs(args, config), "damage": "front_left"}
    env = gym.make(ENV_ID, **kwargs)
    net = make_net(replace(config, env_kwargs=kwargs, morphologies=[]))
    frames, renderer, walked = [], None, 0.0
    if gif is not None:
        import mujoco

        try:
            renderer = mujoco.Renderer(env.unwrapped.model, 240, 320)
        except Exception as exc:  # noqa: BLE001 - MuJoCo raises several types where OpenGL fails
            print(f"no GIF: MuJoCo cannot draw here ({type(exc).__name__}: {one_line(exc)})", flush=True)
    try:
        terms = net.terms(genome[None, :])
        weights = net.initial_weights(terms, [derived_seed(config.seed, 3)], 1)
        obs, _ = env.reset(seed=derived_seed(config.seed, EVAL_KEY, 1))
        norms = [[float(np.linalg.norm(w)) for w in weights]]
        while True:
            if renderer is not None and len(norms) % fps_divisor == 1:
                renderer.update_scene(env.unwrapped.data, camera="track")
                frames.append(renderer.render().copy())
            out = net.step(weights, terms, np.asarray(obs, np.float32).reshape(1, 1, -1))
            obs, reward, terminated, truncated, _ = env.step(to_actions(out.reshape(1, -1), env.action_space)[0])
            walked += float(reward)
            norms.append([float(np.linalg.norm(w)) for w in weights])
            if terminated or truncated:
                break
    finally:
        if renderer is not None:
            renderer.close()
        env.close()
    if frames:
        from underact.render import write_gif

        write_gif(gif, frames, env.metadata["render_fps"] / fps_divisor)
    return np.array(norms), walked


def label_name(label: str) -> str:
    return RULE_NAMES.get(label) or ABLATIONS[label]


def plot_curves(path: Path, curves: dict[tuple[str, int], list[float]], ylabel: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.8), dpi=100)
    colors = {"ABCD_lr": "tab:red", "static": "tab:blue", "norm": "tab:orange", "antidiagonal": "tab:purple"}
    for (label, seed), curve in curves.items():
        ax.plot(curve, color=colors[label], alpha=0.8, label=f"{label_name(label)}, seed {seed}")
    ax.set_xlabel("generation")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{ENV_ID}: learning curves", fontsize=9)
    ax.legend(fontsize=6)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_norms(path: Path, norms: np.ndarray) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    for layer in range(norms.shape[1]):
        ax.plot(norms[:, layer], label=f"layer {layer + 1}")
    ax.set_xlabel("environment step")
    ax.set_ylabel("‖W‖ (Frobenius)")
    ax.set_title("Hebbian agent on the unseen front-left damage: weight norms", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def cell(values: np.ndarray, digits: int) -> str:
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"


def paired(returns: dict, seeds: int) -> list[list[str]]:
    """Per seed: Hebbian vs static on the unseen damage over the same episodes (start states, weight seeds)."""
    rows = []
    for seed in range(seeds):
        heb, static = returns["ABCD_lr"][UNSEEN][seed], returns["static"][UNSEEN][seed]
        diff = heb - static
        sem = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
        rows.append([
            str(seed), f"{heb.mean():.2f}", f"{static.mean():.2f}", f"{diff.mean():+.2f} ± {sem:.2f}",
            f"{np.mean(diff > 0):.0%}",
        ])
    return rows


def main() -> None:
    args = parse_args()

    from underact.agents.trainer import load_genome, train

    digits = 2 if args.protocol == "paper" else 1
    started = time.perf_counter()
    returns: dict[str, dict[str, list[np.ndarray]]] = {}
    curves, runs, genomes = {}, [], {}
    for (label, seed), config in planned(args):
        folder = args.out / f"{label}-seed{seed}"
        shutil.rmtree(folder, ignore_errors=True)
        t0 = time.perf_counter()
        try:
            summary = train(config, out=folder, progress=False)
        except ValueError as exc:
            sys.exit(f"{Path(sys.argv[0]).name}: error: {one_line(exc)}")
        train_s = time.perf_counter() - t0
        genome = load_genome(folder)
        genomes[(label, seed)] = (config, genome)
        per_body = body_returns(args, config, genome)
        for body, values in per_body.items():
            returns.setdefault(label, {b: [] for b in BODIES})[body].append(values)
        curves[(label, seed)] = center_curve(folder)
        wall = time.perf_counter() - t0
        runs.append({
            "run": label, "seed": seed, "train_s": round(train_s, 1), "wall_s": round(wall, 1),
            "env_steps": summary["env_steps"], "best_center": round(summary["best_return"], 3),
            "test": {b: [round(float(v.mean()), 3), round(float(v.std()), 3)] for b, v in per_body.items()},
        })
        means = "  ".join(f"{b.split(' (')[0]} {v.mean():7.2f}" for b, v in per_body.items())
        print(f"{label_name(label):40s} seed {seed}: {means}   ({summary['env_steps']} env steps, "
              f"{train_s:.0f} s training, {wall:.0f} s)", flush=True)

    ylabel = "center fitness: metres walked (mean of 2 bodies)" if args.protocol == "paper" else "center return"
    plot_curves(args.out / "curves.png", curves, ylabel)
    norms_note = "the Hebbian rule was not run"
    if ("ABCD_lr", 0) in genomes:
        config, genome = genomes[("ABCD_lr", 0)]
        gif = args.out / "hebbian_front_left.gif" if args.gif else None
        norms, walked = play_unseen(args, config, genome, gif)
        args.gif = gif is not None and gif.exists()
        plot_norms(args.out / "weight_norms.png", norms)
        norms_note = (
            f"weight norms of the seed-0 Hebbian agent in one test episode on the unseen leg (return {walked:.2f}): "
            f"{np.round(norms[0], 2).tolist()} at the start, {np.round(norms[len(norms) // 2], 2).tolist()} after "
            f"{len(norms) // 2} steps, {np.round(norms[-1], 2).tolist()} after {len(norms) - 1}"
        )
    total = time.perf_counter() - started

    columns = ["run", *BODIES]
    labels = list(returns)
    rows = [[label_name(r), *(cell(np.concatenate(returns[r][b]), digits) for b in BODIES)] for r in labels]
    pairs = paired(returns, args.seeds) if {"ABCD_lr", "static"} <= set(returns) else []
    print(f"\n{ENV_ID}, protocol {args.protocol}: {args.generations} generations, population {args.population}; "
          f"cells: mean ± std over seeds × {args.episodes} fresh episodes; {total:.0f} s")
    print("| " + " | ".join(columns) + " |\n|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if pairs:
        print("\npaired on the unseen damage: seed | Hebbian | static | Hebbian − static (± s.e.) | Hebbian ahead")
        for row in pairs:
            print("| " + " | ".join(row) + " |")
    print(norms_note)
    results = {
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "runs": runs,
        "table": {"columns": columns, "rows": rows},
        "paired": pairs,
        "curves": {f"{label} seed {seed}": [round(v, 3) for v in c] for (label, seed), c in curves.items()},
        "wall_s": round(total, 1),
        "norms": norms_note,
    }
    (args.out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    if not args.no_record:
        write_record(args, results, args.gif)


def write_record(args: argparse.Namespace, results: dict, gif: bool) -> None:
    """docs/benchmarks/quadruped.json (the docs build reads it) and its figures; the record's Ant-v5-reward tables
    and figures from before are kept, marked as such."""
    import mujoco

    from underact.agents import paper

    old = json.loads(RECORD.read_text()) if RECORD.exists() else {}
    kept = [t for t in old.get("tables", []) if t["caption"].startswith("Ant-v5 reward")]
    if not kept and old.get("tables"):  # the first paper-protocol record: the Ant-v5-reward tables before it
        kept = [{**t, "caption": "Ant-v5 reward (earlier comparison, `--protocol ant-v5`): " + t["caption"]}
                for t in old["tables"]]
    kept_figures = [f for f in old.get("figures", []) if "antv5" in f["path"]]
    for name in ("curves", "weight_norms"):
        shutil.copyfile(args.out / f"{name}.png", FIGURES / f"quadruped_{name}.png")
    figures = [
        {"path": "scripts/figures/quadruped_curves.png",
         "caption": "Center fitness per generation (metres walked in 16.5 s, mean of the intact body and the "
                    "front-right damage, evaluated on 4 copies of the center), every run."},
        {"path": "scripts/figures/quadruped_weight_norms.png",
         "caption": "The seed-0 Hebbian agent's per-layer weight norms over one 16.5 s test episode on the unseen "
                    "front-left damage."},
    ]
    if gif:
        shutil.copyfile(args.out / "hebbian_front_left.gif", FIGURES / "quadruped_hebbian_front_left.gif")
        figures.append({"path": "scripts/figures/quadruped_hebbian_front_left.gif",
                        "caption": "The seed-0 Hebbian agent on the unseen front-left damage."})
    runs = [r for r in results["runs"] if r["run"] in RULE_NAMES]
    steps_per_gen = np.mean([r["env_steps"] / args.generations for r in runs])
    core_s_per_step = np.mean([r["train_s"] / r["env_steps"] for r in runs])
    p200 = (200 + 4) / (args.population + 4)
    notes = [
        f"Paired on the unseen front-left damage (same start states and fresh-weight seeds for both rules of a "
        f"seed; Hebbian − static, ± standard error over {args.episodes} episodes): "
        + "; ".join(f"seed {r[0]}: {r[3]} m, Hebbian ahead in {r[4]} of episodes" for r in results["paired"]) + ".",
        results["norms"][0].upper() + results["norms"][1:] + ".",
        f"Cost: {steps_per_gen:,.0f} env steps per generation on average at population {args.population} (2 bodies, "
        f"4 center copies, early stops), {1e3 * core_s_per_step:.2f} ms of this VM per env step with the network "
        f"(2 threads of physics on 2 shared cores), so one generation at population 200 costs about "
        f"{p200 * steps_per_gen * core_s_per_step:.0f} s here; 300 of them (`--preset paper`) about "
        f"{300 * p200 * steps_per_gen * core_s_per_step / 3600:.0f} h on this machine, or that many core-hours "
        "shared out over Ray workers.",
        "Returns are metres, not the paper's units: PyBullet's progress term is velocity (Δdistance / dt), so the "
        "paper's returns are distance × 1/0.0165 s over up to 1000 steps; its ant is PyBullet's, with wider joint "
        "ranges (hips ±40°, ankles 30–100°) and friction 1.5 where Gymnasium's ant.xml has ±30°, 30–70° and 1.",
        "A laptop budget next to the paper's (population 200, 300 generations): an indication, not a replication.",
    ]
    if not gif:
        notes.append("No GIF: MuJoCo could not draw on the machine that ran this (no OpenGL backend worked); "
                     "rerun where one does to add it.")
    record = {
        "order": 9.5,
        "title": "Hebbian agents: the quadruped with a damaged leg",
        "summary": (
            f"Najarro & Risi's quadruped protocol on MuJoCo ({ENV_ID}, `--protocol paper`): fitness = metres "
            f"walked in 16.5 s, trained on the intact body and a front-right lower leg cut to a quarter (mean of "
            f"both), tested on those and on the front-left damage never seen in training. Population "
            f"{args.population}, {args.generations} generations for every run; cells: mean ± std over "
            f"{args.seeds} seeds × {args.episodes} fresh episodes per body (ablations: seed 0 only)."
        ),
        "machine": f"{os.cpu_count()}-core {platform.machine()} VM shared with other jobs",
        "date": date.today().isoformat(),
        "software": f"MuJoCo {mujoco.__version__}, Gymnasium {__import__('gymnasium').__version__}, numpy "
        f"{np.__version__}; environments on the threaded AntVectorEnv (2 threads), network kernels 1 thread",
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "protocol": {
            "fitness": "torso +x displacement per step, summed (metres walked); no alive bonus, control or contact "
                       "cost; training fitness = mean over the intact body and the front-right damage, minus "
                       f"{paper.ES_SETTINGS['penalty']}·mean(genome²)",
            "horizon": f"{paper.HORIZON} steps of 0.05 s (16.5 s; the paper: 1000 × 0.0165 s)",
            "burn_in": f"{paper.BURN_IN} zero-action steps after reset, unseen by the network (the paper: 40 × "
                       "0.0165 s)",
            "early_stop": f"after step {paper.STOP_AFTER}: torso z < {paper.FALL_Z} m, or {paper.NEGATIVE_STEPS} "
                          "steps in a row of negative progress (the paper: 200 and 30 steps of 0.0165 s); "
                          "ABCD_lr runs only, the static baseline trains on full episodes; test episodes never "
                          "stop early",
            "observation": "Ant-v5's 27 values (z, orientation, joint angles, velocities), no contact forces, "
                           "clipped to ±5",
            "network": f"obs → {paper.HIDDEN[0]} → {paper.HIDDEN[1]} → 8, tanh on every layer, no biases",
            "rule": "ABCD_lr: Δw = η(A·o_i·o_j + B·o_i + C·o_j + D) per synapse, after every step with that step's "
                    "activations; fresh weights U(−0.1, 0.1) each episode; no normalisation",
            "damage": f"lower-leg capsule cut to {paper.PAPER_STUMP} of its length (fromto 0.4 → 0.1)",
            "es": "OpenAI-ES, mirrored sampling, centred ranks / std, plain SGD; σ 0.1 ×0.999/gen ≥ 0.01, lr 0.2 "
                  "×0.995/gen ≥ 0.001; ABCD_lr coefficients start at N(0, 1), static weights at 0",
            "budget": f"population {args.population} + 4 center copies, {args.generations} generations, 1 episode "
                      f"per body, {args.seeds} seeds per rule; ablations 1 seed; total "
                      f"{results['wall_s'] / 60:.0f} min",
        },
        "tables": [
            {"caption": f"Metres walked in 16.5 s per body, mean ± std over seeds × {args.episodes} test episodes "
                        f"(total wall time {results['wall_s'] / 60:.0f} min).",
             "columns": results["table"]["columns"], "align": "l" + "r" * (len(results["table"]["columns"]) - 1),
             "rows": results["table"]["rows"]},
            {"caption": "Paired per seed on the unseen front-left damage (metres; same episodes for both rules).",
             "columns": ["seed", "Hebbian", "static", "Hebbian − static (± s.e.)", "episodes Hebbian ahead"],
             "align": "rrrrr", "rows": results["paired"]},
            *kept,
        ],
        "curves": results["curves"],
        "runs": results["runs"],
        "notes": notes,
        "figures": figures + kept_figures,
    }
    RECORD.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {RECORD}")


if __name__ == "__main__":
    main()
