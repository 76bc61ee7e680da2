"""Where a population is evaluated: in this process (`LocalBackend`) or on Ray actors (`RayBackend`).

A backend answers one question per generation: the returns [individuals, episodes] of a batch of genomes, and
the environment steps that took. Both wrap `PopulationEvaluator` (see `underact.agents.rollout`), whose seeds
depend only on (seed, generation, individual), so the Ray backend, which hands each worker one contiguous slice
of the population, gives the same numbers as the local backend. What they run (a `TrainConfig`'s environments
and network) is built by `underact.agents.build`.
"""

from __future__ import annotations

import os
import socket
import sys

import numpy as np

from underact.agents import kernels
from underact.agents.build import make_env_spec, make_net
from underact.agents.config import TrainConfig
from underact.agents.hebbian import PlasticNet
from underact.agents.rollout import EnvSpec, check_memory, evaluation_bytes, population_evaluator
from underact.errors import one_line

EVAL_KEY = 10**9  # stands for "generation" when seeding evaluation episodes, far from training generations
RAY_CONNECT_TIMEOUT_S = 10.0  # how long to wait for a Ray cluster's address to accept a connection


def set_threads() -> None:
    """One thread for the fused kernels, and for torch when it is loaded (an encoder): on a machine shared with
    other jobs, OpenMP workers that spin-wait for a busy core made a step up to 35× slower than one thread
    (measured on 2 cores). Parallelism across cores comes from the Ray backend's worker processes. Plain runs
    never import torch (1.5 s)."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    kernels.use_threads(1)


class LocalBackend:
    """Evaluates the whole population in this process, in one vector environment of `spec`."""

    def __init__(
        self, spec: EnvSpec, net: PlasticNet, total: int, episodes: int, seed: int, morphologies: list | tuple = ()
    ):
        set_threads()
        self.evaluator = population_evaluator(spec, net, total, episodes, seed, morphologies)

    def evaluate(self, genomes: np.ndarray, generation: int) -> tuple[np.ndarray, int]:
        """(returns [len(genomes), episodes], environment steps) of one generation's genomes [n, G]."""
        return self.evaluator.evaluate(genomes, 0, generation)

    def close(self) -> None:
        self.evaluator.close()


class _RayWorker:
    """A Ray actor holding one `PopulationEvaluator`; evaluates one contiguous slice per call."""

    def __init__(self, config_json: str, total: int):
        config = TrainConfig.from_json(config_json)
        spec = make_env_spec(config)  # loads torch when the run has an encoder
        set_threads()
        net = make_net(config, spec)
        self.evaluator = population_evaluator(spec, net, total, config.episodes, config.seed, config.morphologies)

    def evaluate(self, genomes: np.ndarray, offset: int, generation: int) -> tuple[np.ndarray, int]:
        return self.evaluator.evaluate(genomes, offset, generation)


def _auth_hint() -> str:
    """Why joining a running cluster may fail without a reason of Ray's own: `ray start --head` (Ray 2.60) turns
    on token authentication, and a client joins only with RAY_AUTH_MODE=token (the token is in ~/.ray/auth_token,
    or RAY_AUTH_TOKEN)."""
    if os.environ.get("RAY_AUTH_MODE", "").lower() == "token":
        return ""
    return ("; if `ray start --head` started it, token authentication is on: run this command again with "
            "RAY_AUTH_MODE=token set (the token comes from ~/.ray/auth_token on this machine, or RAY_AUTH_TOKEN)")


class RayBackend:
    """Evaluates contiguous population slices on `config.workers` Ray actors (`config.address` joins an
    existing cluster); each actor rebuilds the environments and network from the config."""

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
                    # address="local": a new instance of our own, even where a cluster already runs here
                    ray.init(address="local", num_cpus=config.workers, include_dashboard=False, log_to_driver=False)
            except Exception as exc:  # Ray raises several types (ConnectionError, RuntimeError, ...)
                where = f"the cluster at {config.address}" if config.address else "a local Ray instance"
                raise ValueError(f"could not start or join {where}: {one_line(exc)}"
                                 + (_auth_hint() if config.address else "")) from None
        self.ray = ray
        worker = ray.remote(num_cpus=1)(_RayWorker)
        n = min(config.workers, total)
        text = config.to_json()
        self.actors = [worker.remote(text, total) for _ in range(n)]
        self.bounds = np.linspace(0, total, n + 1).round().astype(int)

    def evaluate(self, genomes: np.ndarray, generation: int) -> tuple[np.ndarray, int]:
        """(returns [len(genomes), episodes], environment steps), the slices evaluated in parallel."""
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
    """The backend `config.backend` names, for `total` individuals per generation."""
    if config.backend == "ray":
        return RayBackend(config, total)
    spec = make_env_spec(config)
    return LocalBackend(spec, make_net(config, spec), total, config.episodes, config.seed, config.morphologies)


def evaluate_genome(
    config: TrainConfig, genome: np.ndarray, episodes: int, seed: int, key: int = EVAL_KEY
) -> np.ndarray:
    """Returns [episodes] of one genome, each episode with freshly sampled weights, batched in one vector env
    (with morphologies: [bodies × episodes], the same episodes on each body); ValueError when that batch would
    not fit in memory."""
    spec = make_env_spec(config)
    return evaluate_in(spec, make_net(config, spec), genome, episodes, seed, key, config.morphologies)


def evaluate_in(
    spec: EnvSpec,
    net: PlasticNet,
    genome: np.ndarray,
    episodes: int,
    seed: int,
    key: int = EVAL_KEY,
    morphologies: list | tuple = (),
) -> np.ndarray:
    """`evaluate_genome` for environments and a network given directly (scripts comparing observations)."""
    check_memory(f"{episodes} episodes at once", evaluation_bytes(net, spec.mode(), 1, episodes), "use fewer episodes")
    backend = LocalBackend(spec, net, 1, episodes, seed, morphologies)
    try:
        returns, _ = backend.evaluate(genome[None, :], key)
    finally:
        backend.close()
    return returns[0]
