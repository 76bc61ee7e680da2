"""Trains plastic networks with OpenAI-ES: run folders, atomic checkpoints, exact resume, local and Ray backends.

The run folder's files (config.json, metrics.csv, latest.safetensors with its manifest, best.safetensors,
curve.png, the lock) are described and written by `underact.agents.runfolder`. metrics.csv has one row per
generation: generation, best_return (best individual's mean return), mean_return (population mean),
center_return (the ES center, evaluated alongside the population as CENTER_COPIES extra individuals),
env_steps (cumulative), wall_s (cumulative training time), sigma, lr, verified_return (empty unless the center
reached the target return: then its mean over `eval_episodes` fresh episodes; training stops when that reaches
target + target_margin·|target|, the margin keeping a center that only just passes on one draw of episodes from
stopping the run). best.safetensors holds the center with the highest center_return, or the verified center
that stopped training.

Environment seeds and fresh weights are derived from (seed, generation, individual) and the ES generator state
is checkpointed, so a resumed run writes the same generation, best_return, mean_return and center_return as an
uninterrupted one; the Ray backend splits the population into contiguous slices, one per worker, and produces
the same numbers as the local backend.
"""

from __future__ import annotations

import io
import json
import shutil
import socket
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from underact.agents import kernels
from underact.agents.config import TrainConfig
from underact.agents.es import OpenAIES
from underact.agents.rollout import PopulationEvaluator, check_memory, evaluation_bytes
from underact.agents.runfolder import (  # noqa: F401 - is_run, load_checkpoint, read_metrics re-exported
    BEST,
    CONFIG,
    CURVE,
    LATEST,
    METRICS,
    METRICS_COLUMNS,
    atomic_write,
    best_checkpoint,
    check_genome,
    config_bytes,
    is_run,
    load_checkpoint,
    load_genome,
    locked,
    metrics_bytes,
    new_run_problem,
    read_config,
    read_latest,
    read_metrics,
    save_checkpoint,
    sha256,
    verified_metrics,
)

CENTER_COPIES = 4  # the ES center is evaluated as this many extra individuals (4 × episodes episodes)
EVAL_KEY = 10**9  # stands for "generation" when seeding evaluation episodes, far from training generations
RAY_CONNECT_TIMEOUT_S = 10.0  # how long to wait for a Ray cluster's address to accept a connection


# --- evaluation backends ----------------------------------------------------------------------------


def set_threads() -> None:
    """One thread for torch and the fused kernels: on a machine shared with other jobs, OpenMP workers that
    spin-wait for a busy core made a step up to 35× slower than one thread (measured on 2 cores).
    Parallelism across cores comes from the Ray backend's worker processes."""
    torch.set_num_threads(1)
    kernels.use_threads(1)


class LocalBackend:
    """Evaluates the whole population in this process, in one vector environment."""

    def __init__(self, config: TrainConfig, total: int):
        set_threads()
        self.evaluator = PopulationEvaluator(config.env_spec(), config.net(), total, config.episodes, config.seed)

    def evaluate(self, genomes: np.ndarray, generation: int) -> tuple[np.ndarray, int]:
        return self.evaluator.evaluate(genomes, 0, generation)

    def close(self) -> None:
        self.evaluator.close()


class _RayWorker:
    """A Ray actor holding one `PopulationEvaluator`; evaluates one contiguous slice per call."""

    def __init__(self, config_json: str, total: int):
        set_threads()
        config = TrainConfig.from_json(config_json)
        self.evaluator = PopulationEvaluator(config.env_spec(), config.net(), total, config.episodes, config.seed)

    def evaluate(self, genomes: np.ndarray, offset: int, generation: int) -> tuple[np.ndarray, int]:
        return self.evaluator.evaluate(genomes, offset, generation)


class RayBackend:
    """Evaluates contiguous population slices on Ray actors (`address` joins an existing cluster)."""

    def __init__(self, config: TrainConfig, total: int):
        try:
            import ray
        except ImportError:
            raise ValueError("the ray backend needs Ray: pip install 'ray[default]'") from None
        if not ray.is_initialized():
            if config.address:
                check_reachable(config.address)
            try:
                if config.address:
                    ray.init(address=config.address, log_to_driver=False)
                else:
                    ray.init(num_cpus=config.workers, include_dashboard=False, log_to_driver=False)
            except Exception as exc:  # Ray raises several types (ConnectionError, RuntimeError, ...)
                where = f"the cluster at {config.address}" if config.address else "a local Ray instance"
                raise ValueError(f"could not start or join {where}: {str(exc).splitlines()[0]}") from None
        self.ray = ray
        worker = ray.remote(num_cpus=1)(_RayWorker)
        n = min(config.workers, total)
        text = config.to_json()
        self.actors = [worker.remote(text, total) for _ in range(n)]
        self.bounds = np.linspace(0, total, n + 1).round().astype(int)

    def evaluate(self, genomes: np.ndarray, generation: int) -> tuple[np.ndarray, int]:
        futures = [
            actor.evaluate.remote(genomes[a:b], int(a), generation)
            for actor, a, b in zip(self.actors, self.bounds[:-1], self.bounds[1:], strict=True)
        ]
        parts = self.ray.get(futures)
        return np.concatenate([r for r, _ in parts]), sum(s for _, s in parts)

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)


def check_reachable(address: str, timeout: float = RAY_CONNECT_TIMEOUT_S) -> None:
    """ValueError unless HOST:PORT accepts a TCP connection within `timeout` seconds (Ray itself retries for
    minutes); other address forms ("auto", "ray://...") are left to Ray."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "/" in host:
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ValueError(
            f"could not reach the Ray cluster at {address}: {reason} (TCP connect, {timeout:g} s timeout); "
            "check the address and that `ray start --head` runs there"
        ) from None


def make_backend(config: TrainConfig, total: int) -> LocalBackend | RayBackend:
    return RayBackend(config, total) if config.backend == "ray" else LocalBackend(config, total)


# --- run folders ------------------------------------------------------------------------------------


def plot_curve(folder: Path, rows: list[dict[str, str]], title: str) -> None:
    """Writes curve.png (best, mean and center return per generation) atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gen = [int(r["generation"]) for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    for key, style in (("best_return", "-"), ("mean_return", "--"), ("center_return", ":")):
        ax.plot(gen, [float(r[key]) for r in rows], style, label=key.replace("_", " "))
    ax.set_xlabel("generation")
    ax.set_ylabel("episode return")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    atomic_write(Path(folder) / CURVE, buf.getvalue())


@dataclass
class _Progress:
    generation: int = 0
    best_center: float = -np.inf
    env_steps: int = 0
    wall_s: float = 0.0
    stopped: bool = False  # the center reached the target return on fresh episodes


def _save_best(folder: Path, genome: np.ndarray, generation: int, center_return: float) -> str:
    meta = {"kind": "best-genome", "generation": str(generation), "center_return": repr(center_return)}
    return save_checkpoint(folder / BEST, {"genome": genome.astype(np.float32)}, meta)


def _commit(folder: Path, es: OpenAIES, prog: _Progress, rows: list[dict[str, str]], manifest: dict) -> None:
    """Writes metrics.csv, then latest.safetensors (the commit point) with the manifest naming the config, the
    metrics up to `prog.generation` and the best genome's checksum."""
    metrics = metrics_bytes(rows)
    atomic_write(folder / METRICS, metrics)
    manifest["metrics_sha256"] = sha256(metrics)
    arrays, strings = es.state_dict()
    meta = {**strings, "kind": "es-state", "progress": json.dumps(asdict(prog)), "manifest": json.dumps(manifest)}
    save_checkpoint(folder / LATEST, arrays, meta)


def _resumed(folder: Path, generations: int | None) -> tuple[TrainConfig, OpenAIES, _Progress, list, dict]:
    """(config, ES, progress, metrics rows, manifest) of the run in `folder`, every file verified against the
    latest checkpoint's manifest; ValueError saying what does not match."""
    arrays, meta, manifest = read_latest(folder)
    config = read_config(folder, manifest)
    if generations is not None:
        config.generations = int(generations)
    config.validate()
    try:
        check_genome(arrays["center"], config, folder / LATEST)
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
    return config, es, prog, rows, manifest


def evaluate_genome(
    config: TrainConfig, genome: np.ndarray, episodes: int, seed: int, key: int = EVAL_KEY
) -> np.ndarray:
    """Returns [episodes] of one genome, each episode with freshly sampled weights, batched in one vector env;
    ValueError when that batch would not fit in memory."""
    spec, net = config.env_spec(), config.net()
    check_memory(f"{episodes} episodes at once", evaluation_bytes(net, spec.mode(), 1, episodes), "use fewer episodes")
    set_threads()
    ev = PopulationEvaluator(spec, net, 1, episodes, seed)
    try:
        returns, _ = ev.evaluate(genome[None, :], 0, key)
    finally:
        ev.close()
    return returns[0]


def train(
    config: TrainConfig | None = None,
    out: Path | None = None,
    resume: Path | None = None,
    generations: int | None = None,
    progress: bool = True,
) -> dict:
    """Trains a new run into `out` (a new or empty folder, or one a run left before its first checkpoint) or
    continues the run folder `resume`, holding the folder's lock throughout.

    `generations` overrides the total generation count on resume. Returns the summary
    {run, generations, best_return, eval_mean_return, env_steps, wall_s}; ValueError for bad input (settings,
    a folder another process holds, run files that do not match the checkpoint's manifest), raised before any
    run file is written.
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
        problem = new_run_problem(folder)
        if problem:
            raise ValueError(problem)
        created = not folder.exists()
    with locked(folder):
        try:
            if resume is not None:
                config, es, prog, rows, manifest = _resumed(folder, generations)
            else:
                problem = new_run_problem(folder)  # again, now that no other process can write here
                if problem:
                    raise ValueError(problem)
                if (folder / CONFIG).exists():
                    print(
                        f"note: {folder} holds a run killed before its first checkpoint; starting it again",
                        file=sys.stderr,
                    )
                es = OpenAIES(config.net().num_params, config.es_config())
                prog, rows = _Progress(), []
                manifest = {"config_sha256": sha256(config_bytes(config)), "best_sha256": ""}
            return _generations(folder, config, es, prog, rows, manifest, fresh=resume is None, progress=progress)
        except BaseException:
            if created and not (folder / LATEST).exists():  # the folder this call made, without a checkpoint
                shutil.rmtree(folder, ignore_errors=True)
            raise


def _generations(
    folder: Path,
    config: TrainConfig,
    es: OpenAIES,
    prog: _Progress,
    rows: list[dict[str, str]],
    manifest: dict,
    fresh: bool,
    progress: bool,
) -> dict:
    """The ES loop of `train`, run while the folder's lock is held; returns the summary."""
    from tqdm import tqdm

    p = config.population
    target = config.target()
    title = f"{config.env}  rule {config.rule}  hidden {config.hidden}  seed {config.seed}"
    backend = make_backend(config, p + CENTER_COPIES)  # the population, then copies of the center
    bar = tqdm(
        total=config.generations,
        initial=prog.generation,
        file=sys.stderr,
        disable=not progress,
        desc="generation",
        dynamic_ncols=True,
    )
    last_plot = time.monotonic()
    try:
        if fresh:  # nothing is written until the inputs and the backend are known to work
            atomic_write(folder / CONFIG, config_bytes(config))
        _commit(folder, es, prog, rows, manifest)  # on resume: drops rows past the checkpoint
        while not prog.stopped and prog.generation < config.generations:
            t0 = time.perf_counter()
            genomes = es.ask()
            center = es.center.astype(np.float32)
            batch = np.vstack([genomes, np.repeat(center[None], CENTER_COPIES, axis=0)])
            returns, steps = backend.evaluate(batch, prog.generation)
            fitness = returns[:p].mean(axis=1)
            center_return = float(returns[p:].mean())
            es.tell(fitness)
            verified = None
            if target is not None and center_return >= target:  # confirm on fresh episodes before stopping
                verified = float(
                    evaluate_genome(
                        config, center, config.eval_episodes, config.seed, EVAL_KEY + 1 + prog.generation
                    ).mean()
                )
                prog.stopped = verified >= target + config.target_margin * abs(target)
            if center_return > prog.best_center or prog.stopped:
                prog.best_center = max(center_return, prog.best_center)
                manifest["best_sha256"] = _save_best(folder, center, prog.generation, center_return)
            dt = time.perf_counter() - t0
            prog.env_steps += steps
            prog.wall_s += dt
            row = {
                "generation": prog.generation,
                "best_return": repr(float(fitness.max())),
                "mean_return": repr(float(fitness.mean())),
                "center_return": repr(center_return),
                "env_steps": prog.env_steps,
                "wall_s": f"{prog.wall_s:.3f}",
                "sigma": repr(es.sigma),
                "lr": repr(es.lr),
                "verified_return": "" if verified is None else repr(verified),
            }
            rows.append({k: str(v) for k, v in row.items()})
            prog.generation += 1
            _commit(folder, es, prog, rows, manifest)
            bar.set_postfix(
                best=f"{fitness.max():.1f}",
                mean=f"{fitness.mean():.1f}",
                center=f"{center_return:.1f}",
                steps_s=f"{steps / dt:.0f}",
            )
            bar.update(1)
            if time.monotonic() - last_plot > 5.0:
                plot_curve(folder, rows, title)
                last_plot = time.monotonic()
    finally:
        bar.close()
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
