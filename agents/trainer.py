"""Trains plastic networks with OpenAI-ES: run folders, atomic checkpoints, exact resume, local and Ray backends.

A run folder holds
- `config.json`  the `TrainConfig` (written once, at creation);
- `metrics.csv`  one row per generation: generation, best_return (best individual's mean return),
  mean_return (population mean), center_return (the ES center, evaluated alongside the population as
  CENTER_COPIES extra individuals), env_steps (cumulative), wall_s (cumulative training time), sigma, lr,
  verified_return (empty unless the center reached the target return: then its mean over `eval_episodes`
  fresh episodes; training stops when that reaches target + target_margin·|target|, the margin keeping a
  center that only just passes on one draw of episodes from stopping the run);
- `latest.safetensors` the ES state after the last finished generation (center, Adam moments, σ, step size,
  numpy bit-generator state) and `best.safetensors` the center with the highest center_return, or the
  verified center that stopped training;
- `curve.png` the learning curve, redrawn as training goes.

Every file is replaced atomically (temporary file in the same folder, fsync, `os.replace`), so a kill at
any instant leaves loadable checkpoints. Environment seeds and fresh weights are derived from
(seed, generation, individual) and the ES generator state is checkpointed, so a resumed run writes the same
generation, best_return, mean_return and center_return as an uninterrupted one; the Ray backend splits the
population into contiguous slices, one per worker, and produces the same numbers as the local backend.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from underact.agents import kernels
from underact.agents.config import TrainConfig
from underact.agents.es import OpenAIES
from underact.agents.rollout import PopulationEvaluator

FORMAT = "underact-es-checkpoint-1"
METRICS_COLUMNS = (
    "generation",
    "best_return",
    "mean_return",
    "center_return",
    "env_steps",
    "wall_s",
    "sigma",
    "lr",
    "verified_return",
)
CENTER_COPIES = 4  # the ES center is evaluated as this many extra individuals (4 × episodes episodes)
EVAL_KEY = 10**9  # stands for "generation" when seeding evaluation episodes, far from training generations


# --- atomic files -----------------------------------------------------------------------------------


def atomic_write(path: Path, data: bytes) -> None:
    """Writes `data` to `path` so that a reader sees the old or the new file, never a partial one."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for k in sorted(arrays):
        h.update(k.encode())
        h.update(np.ascontiguousarray(arrays[k]).tobytes())
    return h.hexdigest()


def save_checkpoint(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, str]) -> None:
    """Atomically writes a safetensors file with a format tag and a SHA-256 of its arrays in the metadata."""
    from safetensors.numpy import save

    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    meta = {**meta, "format": FORMAT, "sha256": _digest(arrays)}
    atomic_write(path, save(arrays, metadata=meta))


def load_checkpoint(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(arrays, metadata) of a checkpoint; ValueError naming the file if it is missing or corrupted."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no checkpoint there")
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = dict(f.metadata() or {})
            arrays = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open is not a dict
    except Exception as exc:  # safetensors raises several types for malformed files
        raise ValueError(f"{path}: corrupted checkpoint ({type(exc).__name__})") from None
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: not an underact checkpoint (format tag missing)")
    if meta.get("sha256") != _digest(arrays):
        raise ValueError(f"{path}: corrupted checkpoint (checksum mismatch)")
    return arrays, meta


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
        text = json.dumps(asdict(config))
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


def make_backend(config: TrainConfig, total: int) -> LocalBackend | RayBackend:
    return RayBackend(config, total) if config.backend == "ray" else LocalBackend(config, total)


# --- run folders ------------------------------------------------------------------------------------


def is_run(folder: Path) -> bool:
    return (Path(folder) / "config.json").is_file() and (Path(folder) / "latest.safetensors").is_file()


def read_config(folder: Path) -> TrainConfig:
    """The config of a run folder; ValueError if `folder` is not a run."""
    folder = Path(folder)
    if not is_run(folder):
        raise ValueError(f"{folder} is not a run folder (needs config.json and latest.safetensors)")
    try:
        return TrainConfig.from_json((folder / "config.json").read_text())
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{folder / 'config.json'}: unreadable run config ({exc})") from None


def read_metrics(folder: Path) -> list[dict[str, str]]:
    path = Path(folder) / "metrics.csv"
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _metrics_bytes(rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=METRICS_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()


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
    atomic_write(Path(folder) / "curve.png", buf.getvalue())


@dataclass
class _Progress:
    generation: int = 0
    best_center: float = -np.inf
    env_steps: int = 0
    wall_s: float = 0.0
    stopped: bool = False  # the center reached the target return on fresh episodes


def _save_latest(folder: Path, es: OpenAIES, prog: _Progress) -> None:
    arrays, strings = es.state_dict()
    meta = {**strings, "progress": json.dumps(asdict(prog))}
    save_checkpoint(folder / "latest.safetensors", arrays, meta)


def _save_best(folder: Path, genome: np.ndarray, generation: int, center_return: float) -> None:
    meta = {"generation": str(generation), "center_return": repr(center_return)}
    save_checkpoint(folder / "best.safetensors", {"genome": genome.astype(np.float32)}, meta)


def load_genome(folder: Path, which: str = "best") -> np.ndarray:
    """The genome to deploy from a run: "best" (best center so far) or "latest" (the current center)."""
    folder = Path(folder)
    if which == "best" and (folder / "best.safetensors").is_file():
        return load_checkpoint(folder / "best.safetensors")[0]["genome"]
    arrays, _ = load_checkpoint(folder / "latest.safetensors")
    return arrays["center"].astype(np.float32)


def evaluate_genome(
    config: TrainConfig, genome: np.ndarray, episodes: int, seed: int, key: int = EVAL_KEY
) -> np.ndarray:
    """Returns [episodes] of one genome, each episode with freshly sampled weights, batched in one vector env."""
    set_threads()
    ev = PopulationEvaluator(config.env_spec(), config.net(), 1, episodes, seed)
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
    """Trains a new run into `out` (must not be an existing run) or continues the run folder `resume`.

    `generations` overrides the total generation count on resume. Returns the summary
    {run, generations, best_return, eval_mean_return, env_steps, wall_s}; ValueError for bad input, raised
    before anything in an existing folder is touched.
    """
    from tqdm import tqdm

    if resume is not None:
        folder = Path(resume)
        config = read_config(folder)
        if generations is not None:
            config.generations = int(generations)
        config.validate()
        arrays, meta = load_checkpoint(folder / "latest.safetensors")
        es = OpenAIES.from_state_dict(arrays, meta)
        prog = _Progress(**json.loads(meta["progress"]))
        rows = [r for r in read_metrics(folder) if int(r["generation"]) < prog.generation]
    else:
        if config is None or out is None:
            raise ValueError("a new run needs a config and an output folder")
        folder = Path(out)
        config.validate()
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise ValueError(f"{folder} already exists and is not empty; use --resume {folder} or another --out")
        es = OpenAIES(config.net().num_params, config.es_config())
        prog, rows = _Progress(), []

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
        if resume is None:  # nothing is written until the inputs and the backend are known to work
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write(folder / "config.json", (json.dumps(asdict(config), indent=2) + "\n").encode())
            _save_latest(folder, es, prog)
        atomic_write(folder / "metrics.csv", _metrics_bytes(rows))  # on resume: drops rows past the checkpoint
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
                _save_best(folder, center, prog.generation, center_return)
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
            atomic_write(folder / "metrics.csv", _metrics_bytes(rows))
            _save_latest(folder, es, prog)
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
