"""Trains plastic networks with OpenAI-ES, one generation at a time, into a run folder that survives a kill.

Read it top to bottom:
1. `es_generations` is the ES loop, the one every caller uses (`underact train`, the scripts, the encoders):
   ask the strategy for a population, evaluate it together with `CENTER_COPIES` copies of the current center in
   one batch on a backend (`underact.agents.backends`: local or Ray), tell the strategy the population's mean
   returns.
2. `evolve` runs that loop without a run folder (a spec and network given directly, e.g. behind an encoder)
   and returns the final center and its learning curve.
3. `train` runs it for a `TrainConfig` into a run folder (format and files: `underact.agents.runfolder`),
   checking the settings and resources first, and writing each finished generation before the next starts.

metrics.csv has one row per generation: generation, best_return (best individual's mean return), mean_return
(population mean), center_return (the ES center, evaluated alongside the population), env_steps (cumulative),
wall_s (cumulative training time: the generations and verifications, not the run folder's writes), sigma, lr,
verified_return (empty unless the center reached the target return: then its mean over `eval_episodes` fresh
episodes; training stops when that reaches target + target_margin·|target|, the margin keeping a center that only
just passes on one draw of episodes from stopping the run). best.safetensors holds the center with the highest
center_return, or the verified center that stopped training.

Environment seeds and fresh weights are derived from (seed, generation, individual) and the ES generator state
is checkpointed, so a resumed run writes the same generation, best_return, mean_return and center_return as an
uninterrupted one, and the Ray backend produces the same numbers as the local backend.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from underact.agents.backends import EVAL_KEY, LocalBackend, RayBackend, evaluate_genome, make_backend
from underact.agents.build import check_resources, make_net, target_return
from underact.agents.config import TrainConfig, flag_of
from underact.agents.es import ESConfig, OpenAIES
from underact.agents.hebbian import PlasticNet
from underact.agents.rollout import EnvSpec
from underact.agents.runfolder import (
    CONFIG,
    CURVE,
    GENOME_LENGTH,
    LATEST,
    best_checkpoint,
    check_genome,
    commit,
    config_bytes,
    genome_length,
    load_genome,
    locked,
    new_run_problem,
    read_config,
    read_latest,
    save_best,
    sha256,
    verified_metrics,
    write_config,
)
from underact.files import atomic_write

CENTER_COPIES = 4  # the ES center is evaluated as this many extra individuals (4 × episodes episodes)
PLOT_EVERY_S = 5.0  # curve.png is redrawn at most this often while training


# --- 1. the ES loop -----------------------------------------------------------------------------------------


@dataclass
class Generation:
    """What one generation of `es_generations` measured."""

    index: int
    center: np.ndarray  # [G] float32, the center the population was drawn around (before `tell` moved it)
    fitness: np.ndarray  # [P] each individual's mean return over its episodes
    center_return: float  # the center's mean return over CENTER_COPIES × episodes episodes
    env_steps: int
    started: float  # time.perf_counter() when the generation started


def es_generations(
    es: OpenAIES, backend: LocalBackend | RayBackend, start: int, stop: int, progress: bool = True
) -> Iterator[Generation]:
    """Runs generations `start` … `stop` − 1 of `es`, yielding each after `tell` (the caller may stop early)."""
    from tqdm import tqdm

    p = es.config.population
    bar = tqdm(total=stop, initial=start, file=sys.stderr, disable=not progress, desc="generation", dynamic_ncols=True)
    try:
        for generation in range(start, stop):
            started = time.perf_counter()
            genomes = es.ask()  # [P, G]
            center = es.center.astype(np.float32)
            batch = np.vstack([genomes, np.repeat(center[None], CENTER_COPIES, axis=0)])  # [P + copies, G]
            returns, steps = backend.evaluate(batch, generation)  # [P + copies, episodes]
            fitness = returns[:p].mean(axis=1)
            es.tell(fitness)
            center_return = float(returns[p:].mean())
            bar.set_postfix(
                best=f"{fitness.max():.1f}",
                mean=f"{fitness.mean():.1f}",
                center=f"{center_return:.1f}",
                steps_s=f"{steps / (time.perf_counter() - started):.0f}",
            )
            bar.update(1)
            yield Generation(generation, center, fitness, center_return, steps, started)
    finally:
        bar.close()


# --- 2. without a run folder ---------------------------------------------------------------------------------


def evolve(
    spec: EnvSpec, net: PlasticNet, es_config: ESConfig, generations: int, episodes: int, progress: bool = True
) -> tuple[np.ndarray, list[float]]:
    """(final center [G] float32, center return per generation) of `generations` ES generations on `net` in
    `spec`'s environments (which may carry an encoder), evaluated locally; seeded by `es_config.seed`."""
    es = OpenAIES(net.num_params, es_config)
    backend = LocalBackend(spec, net, es_config.population + CENTER_COPIES, episodes, es_config.seed)
    try:
        curve = [g.center_return for g in es_generations(es, backend, 0, generations, progress)]
    finally:
        backend.close()
    return es.center.astype(np.float32), curve


# --- 3. a run folder ----------------------------------------------------------------------------------------


@dataclass
class _Progress:
    generation: int = 0
    best_center: float = -np.inf
    env_steps: int = 0
    wall_s: float = 0.0
    stopped: bool = False  # the center reached the target return on fresh episodes


def train(
    config: TrainConfig | None = None,
    out: Path | None = None,
    resume: Path | None = None,
    generations: int | None = None,
    progress: bool = True,
    target_return: float | str | None = None,
    settings: dict | None = None,
) -> dict:
    """Trains a new run into `out` (a new or empty folder, or one a run left before its first checkpoint) or
    continues the run folder `resume`, holding the folder's lock throughout.

    On resume, `generations` sets the total generation count: a larger one trains on, past an early stop at the
    target return too (which is then off, with a note); `target_return` sets a new target ("none": no early
    stop); `settings` (`TrainConfig` fields the caller gave) must equal the run's, or ValueError names the run's
    value. A resumed run with nothing left to train says so on stderr. Returns the summary
    {run, generations, best_return, eval_mean_return, env_steps, wall_s}; ValueError for bad input (settings,
    an environment or encoder that cannot be made, sizes past this machine's memory, a folder another process
    holds, run files that do not match the checkpoint's manifest), raised before any run file is written.
    """
    if resume is not None:
        folder = Path(resume)
        read_latest(folder)  # a run folder, before its lock is taken
        created = False
    else:
        if config is None or out is None:
            raise ValueError("a new run needs a config and an output folder")
        folder = Path(out)
        config.validate()
        check_resources(config, config.population + CENTER_COPIES)
        problem = new_run_problem(folder)
        if problem:
            raise ValueError(problem)
        created = not folder.exists()
    with locked(folder):
        try:
            if resume is not None:
                config, es, prog, rows, manifest = _resumed(folder, generations, target_return, settings or {})
            else:
                problem = new_run_problem(folder)  # again, now that no other process can write here
                if problem:
                    raise ValueError(problem)
                if (folder / CONFIG).exists():
                    print(
                        f"note: {folder} holds a run killed before its first checkpoint; starting it again",
                        file=sys.stderr,
                    )
                size = make_net(config).num_params
                es = OpenAIES(size, config.es_config())
                prog, rows = _Progress(), []
                manifest = {"config_sha256": sha256(config_bytes(config)), "best_sha256": "", GENOME_LENGTH: size}
            return _run(folder, config, es, prog, rows, manifest, fresh=resume is None, progress=progress)
        except BaseException:
            if created and not (folder / LATEST).exists():  # the folder this call made, without a checkpoint
                shutil.rmtree(folder, ignore_errors=True)
            raise


def _resumed(
    folder: Path, generations: int | None, target_return: float | str | None, settings: dict
) -> tuple[TrainConfig, OpenAIES, _Progress, list, dict]:
    """(config, ES, progress, metrics rows, manifest) of the run in `folder`, every file verified against the
    latest checkpoint's manifest, with this call's generations and target (see `train`); ValueError saying what
    does not match."""
    arrays, meta, manifest = read_latest(folder)
    config = read_config(folder, manifest)
    contradiction = _contradiction(config, settings)
    if contradiction:
        raise ValueError(f"{contradiction} in {folder}; a resumed run keeps its settings (only --generations and "
                         "--target-return may change): start a new run with --out for others")
    if generations is not None:
        config.generations = int(generations)
    if target_return is not None:
        config.target_return = target_return
    config.validate()
    check_resources(config, config.population + CENTER_COPIES)
    try:
        manifest[GENOME_LENGTH] = genome_length(manifest, config)  # recorded from now on in an older run
        check_genome(arrays["center"], manifest[GENOME_LENGTH], folder / LATEST)
        for name in ("adam_m", "adam_v"):
            if arrays[name].shape != arrays["center"].shape or not np.all(np.isfinite(arrays[name])):
                raise ValueError(f"{folder / LATEST}: {name} is not a finite vector of the center's size")
        es = OpenAIES.from_state_dict(arrays, meta)
        prog = _Progress(**json.loads(meta["progress"]))
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{folder / LATEST}: unreadable ES state ({type(exc).__name__}: {exc})") from None
    if es.config != config.es_config():
        raise ValueError(f"{folder / LATEST}: its ES settings differ from {folder / CONFIG}")
    rows = verified_metrics(folder, prog.generation, manifest["metrics_sha256"])
    best_checkpoint(folder, manifest, prog.generation)
    if prog.stopped and (target_return is not None or (generations is not None and generations > prog.generation)):
        prog.stopped = False  # asked to train on past the early stop
        if target_return is None:
            config.target_return = "none"
            print(f"note: {folder} stopped at its target return after {prog.generation} generations; training on "
                  f"to {config.generations} without the early stop (--target-return sets a new one)", file=sys.stderr)
    if prog.stopped or prog.generation >= config.generations:
        why = "stopped at its target return" if prog.stopped else "ran its budget"
        print(f"note: {folder} has nothing left to train: it {why} after {prog.generation} generations; give "
              f"--generations N (more than {prog.generation}) to train on", file=sys.stderr)
    return config, es, prog, rows, manifest


def _contradiction(config: TrainConfig, settings: dict) -> str | None:
    """'--flag VALUE contradicts the run's flag VALUE' for the first setting that differs from the run's, or None."""
    for name, value in settings.items():
        ours = getattr(config, name)
        if json.dumps(value, default=list) != json.dumps(ours, default=list):
            flag = flag_of(name)
            shown = "" if isinstance(value, bool) else f" {json.dumps(value, default=list)}"
            return f"{flag}{shown} contradicts the run's {name} {json.dumps(ours, default=list)}"
    return None


def _run(
    folder: Path,
    config: TrainConfig,
    es: OpenAIES,
    prog: _Progress,
    rows: list[dict[str, str]],
    manifest: dict,
    fresh: bool,
    progress: bool,
) -> dict:
    """The generations of `train`, run while the folder's lock is held; returns the summary."""
    target = target_return(config)
    title = f"{config.env}  rule {config.rule}  hidden {config.hidden}  seed {config.seed}"
    backend = make_backend(config, config.population + CENTER_COPIES)  # the population, then copies of the center
    last_plot = time.monotonic()
    try:
        if fresh:  # nothing is written until the inputs and the backend are known to work
            write_config(folder, config)
        commit(folder, rows, es.state_dict(), asdict(prog), manifest)  # on resume: drops rows past the checkpoint
        stop = prog.generation if prog.stopped else config.generations
        for gen in es_generations(es, backend, prog.generation, stop, progress):
            verified = None
            if target is not None and gen.center_return >= target:  # confirm on fresh episodes before stopping
                key = EVAL_KEY + 1 + gen.index
                verified = float(evaluate_genome(config, gen.center, config.eval_episodes, config.seed, key).mean())
                prog.stopped = verified >= target + config.target_margin * abs(target)
            prog.wall_s += time.perf_counter() - gen.started  # the run folder's writes are not training time
            if gen.center_return > prog.best_center or prog.stopped:
                prog.best_center = max(gen.center_return, prog.best_center)
                manifest["best_sha256"] = save_best(folder, gen.center, gen.index, gen.center_return)
            prog.env_steps += gen.env_steps
            row = {
                "generation": gen.index,
                "best_return": repr(float(gen.fitness.max())),
                "mean_return": repr(float(gen.fitness.mean())),
                "center_return": repr(gen.center_return),
                "env_steps": prog.env_steps,
                "wall_s": f"{prog.wall_s:.3f}",
                "sigma": repr(es.sigma),
                "lr": repr(es.lr),
                "verified_return": "" if verified is None else repr(verified),
            }
            rows.append({k: str(v) for k, v in row.items()})
            prog.generation += 1
            commit(folder, rows, es.state_dict(), asdict(prog), manifest)  # the commit point of this generation
            if time.monotonic() - last_plot > PLOT_EVERY_S:
                plot_curve(folder, rows, title)
                last_plot = time.monotonic()
            if prog.stopped:
                break
    finally:
        backend.close()
    if rows:
        plot_curve(folder, rows, title)
    eval_returns = evaluate_genome(config, load_genome(folder), config.eval_episodes, config.seed)
    return {
        "run": str(folder),
        "generations": prog.generation,
        "best_return": float(prog.best_center),
        "eval_mean_return": float(eval_returns.mean()),
        "env_steps": int(prog.env_steps),
        "wall_s": round(prog.wall_s, 3),
    }


def plot_curve(folder: Path, rows: list[dict[str, str]], title: str) -> None:
    """Writes curve.png (best, mean and center return per generation) atomically, drawn by
    `underact.agents.curve` (Pillow; matplotlib's import and drawing cost 0.7 s of a 3-second command)."""
    from underact.agents.curve import line_chart_png

    keys = ("best_return", "mean_return", "center_return")
    series = [(key.replace("_", " "), [float(r[key]) for r in rows]) for key in keys]
    png = line_chart_png([int(r["generation"]) for r in rows], series, title, "generation", "episode return")
    atomic_write(Path(folder) / CURVE, png)
