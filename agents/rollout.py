"""Population rollouts: every agent of a population slice steps together in one vector environment.

An agent is (individual p, episode e); agent p·E + e drives environment copy p·E + e. Per environment step
there is one batched forward pass and Hebbian update for all agents (`PlasticBatch.act`) and one vector
environment step. Episodes end at different times: each copy's done flag is tracked, its later rewards are
ignored, and the loop ends when every agent is done (copies that autoreset keep stepping, unused).

Reproducibility does not depend on how the population is sliced (local backend: one slice; Ray: one per
worker):
- fresh weights of individual k in generation g are drawn from a seed derived from (seed, g, k) (torch's CPU
  generator's numbers, see `underact.agents.hebbian.torch_uniform`);
- environments are reset with one seed derived from (seed, g). Vector environments that seed copy i with
  seed + i (Gymnasium's sync / async) are built for the slice only, with the seed shifted by the slice's
  offset. Native vector environments draw all copies' initial states from one generator, so a slice builds
  the full-size environment and drives only its own copies (the others get a constant action; native
  vector environments step all copies in one array expression, so this is cheap).
"""

from __future__ import annotations

import os
import signal
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import gymnasium as gym
import numpy as np
from gymnasium.vector.async_vector_env import _async_worker as async_worker

from underact.agents import compiled, kernels
from underact.agents.hebbian import PlasticBatch, PlasticNet
from underact.errors import one_line


def import_our_envs() -> None:
    """Registers `underact/...` environment ids when the environments package provides them."""
    try:
        import underact.envs  # noqa: F401
    except ImportError:
        pass


def _registered(env_id: str) -> gym.envs.registration.EnvSpec | None:
    try:
        return gym.spec(env_id)
    except gym.error.Error:
        return None


def derived_seed(*keys: int) -> int:
    """A 32-bit seed derived from integer keys (numpy SeedSequence), stable across runs and machines."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1)[0])


def check_env_id(env_id: str) -> gym.envs.registration.EnvSpec:
    """The registered spec of `env_id`, or ValueError naming the id. Our environments are imported only for an
    id Gymnasium does not know yet (importing them costs ~0.5 s that a CartPole-v1 run need not pay)."""
    spec = _registered(env_id)
    if spec is not None:
        return spec
    import_our_envs()
    try:
        return gym.spec(env_id)
    except gym.error.Error as exc:
        namespaced = f"underact/{env_id}"
        if "/" not in env_id and namespaced in gym.registry:  # the namespace forgotten
            raise ValueError(f"unknown environment id {env_id!r}; did you mean {namespaced!r}?") from None
        raise ValueError(f"unknown environment id {env_id!r} ({exc})") from None


def space_sizes(env_id: str, env_kwargs: dict | None = None) -> tuple[int, int]:
    """(observation size, network output size) for `env_id`; ValueError for unsupported spaces."""
    check_env_id(env_id)
    try:
        env = gym.make(env_id, **(env_kwargs or {}))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{env_id}: could not make the environment with {env_kwargs or {}}: {one_line(exc)}") from None
    try:
        return network_sizes(env.observation_space, env.action_space, env_id)
    finally:
        env.close()


def network_sizes(obs: gym.Space, act: gym.Space, label: str) -> tuple[int, int]:
    """(network inputs, network outputs) for these spaces; ValueError naming `label` for unsupported ones."""
    if not isinstance(obs, gym.spaces.Box) or len(obs.shape) != 1:
        raise ValueError(f"{label}: expected a flat Box observation space, got {obs}")
    if isinstance(act, gym.spaces.Discrete):
        return obs.shape[0], int(act.n)
    if isinstance(act, gym.spaces.Box) and len(act.shape) == 1:
        return obs.shape[0], act.shape[0]
    raise ValueError(f"{label}: expected a Discrete or flat Box action space, got {act}")


@dataclass
class EnvSpec:
    """What a worker needs to build environments: id, make() kwargs and the vectorization mode.

    `vectorization` is "auto" (the id's native `vector_entry_point` if it has one, else "sync"), "native",
    "sync" or "async".
    """

    env_id: str
    env_kwargs: dict = field(default_factory=dict)
    vectorization: str = "auto"

    def mode(self) -> str:
        spec = check_env_id(self.env_id)
        if self.vectorization == "auto":
            return "native" if spec.vector_entry_point is not None else "sync"
        if self.vectorization == "native" and spec.vector_entry_point is None:
            raise ValueError(f"{self.env_id} has no native vector environment; use 'sync' or 'async'")
        if self.vectorization not in ("native", "sync", "async"):
            raise ValueError(f"vectorization must be auto, native, sync or async, got {self.vectorization!r}")
        return self.vectorization

    def make(self, num_envs: int) -> gym.vector.VectorEnv:
        """`num_envs` copies; ValueError in one line when the environment refuses its arguments."""
        mode = self.mode()
        vmode = "vector_entry_point" if mode == "native" else mode
        try:
            if mode != "async":
                return gym.make_vec(self.env_id, num_envs=num_envs, vectorization_mode=vmode, **self.env_kwargs)
            with _deferring_ctrl_c() as interrupted:
                env = gym.make_vec(self.env_id, num_envs=num_envs, vectorization_mode=vmode,
                                   vector_kwargs={"worker": _worker_ignoring_ctrl_c}, **self.env_kwargs)
            if interrupted:  # Ctrl-C while the workers started: stop them, then be interrupted
                close_vector_env(env)
                raise KeyboardInterrupt
            return env
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{self.env_id}: could not make the environment with {self.env_kwargs}: {one_line(exc)}"
            ) from None


def _worker_ignoring_ctrl_c(*args) -> None:
    """Gymnasium's async worker, ignoring Ctrl-C (SIGINT), so that the parent alone handles it and closes the
    workers: hundreds of workers each reporting its own KeyboardInterrupt printed their tracebacks and, through one
    shared error queue that nobody read, hung the close."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        async_worker(*args)
    except (BrokenPipeError, EOFError):  # the parent went first (interrupted): nothing left to report to
        pass


@contextmanager
def _deferring_ctrl_c() -> Iterator[list[int]]:
    """Holds a Ctrl-C back while workers are forked (each inherits this handler until it ignores SIGINT itself,
    so none dies half-started); yields the list of signals held back, for the caller to act on afterwards."""
    pending: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield pending
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        yield pending
    finally:
        signal.signal(signal.SIGINT, previous)


def close_vector_env(env: gym.vector.VectorEnv) -> None:
    """Closes `env`; an async one's workers hold nothing to save, so they are stopped, not awaited (a step that
    Ctrl-C interrupted is abandoned without a warning)."""
    if isinstance(env, gym.vector.AsyncVectorEnv):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            env.close(terminate=True)
    else:
        env.close()


# Rough memory per environment copy: a native vector env holds a few arrays per copy, sync one Python env (a
# MuJoCo model and data for MuJoCo tasks), async one subprocess.
ENV_COPY_BYTES = {"native": 4_096, "sync": 262_144, "async": 16_777_216}


def evaluation_bytes(net: PlasticNet, mode: str, individuals: int, episodes: int) -> int:
    """An estimate of the memory `PopulationEvaluator` needs for `individuals` x `episodes` agents: genomes and
    their coefficient tensors, the plastic weights of every agent, the environment copies."""
    synapses = sum(o * i for o, i in net.shapes)
    copies = individuals * episodes
    return 16 * individuals * net.num_params + 8 * copies * synapses + copies * ENV_COPY_BYTES[mode]


def check_memory(what: str, needed: int, fix: str) -> None:
    """ValueError when `needed` bytes exceed half of this machine's physical memory."""
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    if needed > total // 2:
        raise ValueError(
            f"{what} needs about {needed / 1e9:.3g} GB, more than half of this machine's {total / 1e9:.3g} GB; {fix}"
        )


def to_actions(out: np.ndarray, space: gym.Space) -> np.ndarray:
    """Network outputs [N, out] in (−1, 1) to environment actions: argmax (Discrete), scaled tanh (Box)."""
    if isinstance(space, gym.spaces.Discrete):
        return out.argmax(axis=-1).astype(np.int64) + int(space.start)
    low, high = space.low.astype(np.float64), space.high.astype(np.float64)
    bounded = np.isfinite(low) & np.isfinite(high)
    scaled = np.where(bounded, low + (out + 1.0) * 0.5 * (high - low), out)
    return scaled.astype(space.dtype)


def idle_action(space: gym.Space, n: int) -> np.ndarray:
    """A valid constant action for n copies that no agent drives."""
    if isinstance(space, gym.spaces.Discrete):
        return np.full(n, int(space.start), dtype=np.int64)
    return np.tile(np.clip(np.zeros(space.shape), space.low, space.high).astype(space.dtype), (n, 1))


def seeds_each_copy(env_id: str) -> bool:
    """Whether `env_id`'s native vector environment seeds copy i with seed + i (its class sets
    `SEEDS_EACH_COPY = True`, as `underact.envs.ant.AntVectorEnv`): then a slice builds only its own copies,
    as with sync."""
    entry = check_env_id(env_id).vector_entry_point
    if entry is None:
        return False
    creator = gym.envs.registration.load_env_creator(entry) if isinstance(entry, str) else entry
    return bool(getattr(creator, "SEEDS_EACH_COPY", False))


class PopulationEvaluator:
    """Evaluates genome slices of a population of `total` individuals, `episodes` episodes each."""

    def __init__(self, env: EnvSpec, net: PlasticNet, total: int, episodes: int, seed: int, compiled: bool = True):
        self.env_spec, self.net, self.total, self.episodes, self.seed = env, net, total, episodes, seed
        self.native = env.mode() == "native" and not seeds_each_copy(env.env_id)
        # Our own cart-pole and acrobot play in one compiled call per slice (`underact.agents.compiled`): the same
        # episodes (physics exactly, networks to float32 rounding), with no Python per step. `compiled=False` keeps
        # the step-by-step path; `compiled.compiled_env` says which environments and networks it serves.
        self.compiled = compiled and self.native
        self._envs: dict[int, gym.vector.VectorEnv] = {}
        kernels.load(net.plastic)

    def _env(self, n: int) -> gym.vector.VectorEnv:
        if n not in self._envs:
            self._envs[n] = self.env_spec.make(n)
        return self._envs[n]

    def close(self) -> None:
        for env in self._envs.values():
            close_vector_env(env)
        self._envs.clear()

    def evaluate(self, genomes: np.ndarray, offset: int, generation: int) -> tuple[np.ndarray, int]:
        """Returns of individuals offset … offset+len(genomes)−1: ([P, E] float64, env steps taken)."""
        p, e, net = len(genomes), self.episodes, self.net
        terms = net.terms(genomes)
        seeds = [derived_seed(self.seed, generation, k) for k in range(offset, offset + p)]
        coefficients = [t.kernel_args for t in terms] if net.plastic else None  # [P, 1, out, in] each
        weights = net.initial_weights(terms, seeds, e)  # [P, E, out, in] per layer
        env_seed = derived_seed(self.seed, generation, 2**31 - 1)
        if self.native:
            env, first, reset_seed = self._env(self.total * e), offset * e, env_seed
        else:
            env, first, reset_seed = self._env(p * e), 0, env_seed + offset * e
        mine = slice(first, first + p * e)
        obs, _ = env.reset(seed=reset_seed)
        if self.compiled and compiled.compiled_env(env, net):
            return compiled.evaluate(net, weights, coefficients, env, obs, first, e)
        nets = PlasticBatch(net, weights, coefficients)
        space = env.single_action_space
        actions = idle_action(space, env.num_envs)
        returns = np.zeros(p * e)
        done = np.zeros(p * e, dtype=bool)
        batch = np.arange(p)  # individuals of the slice still in the batched arrays
        rows: slice | np.ndarray = mine  # their environment copies, in the same order
        steps = 0
        # Environments that can leave copies alone (`underact.envs.ant.AntVectorEnv.idle`) spend no physics on
        # finished episodes nor on other slices' copies; the returns do not change (they are never read).
        idle = np.ones(env.num_envs, dtype=bool) if hasattr(env, "idle") else None
        while not done.all():
            if idle is not None:
                idle[mine] = done
                env.idle = idle
            x = np.asarray(obs[rows], dtype=np.float32).reshape(len(batch), e, -1)
            out = nets.act(x)
            actions[rows] = to_actions(out.reshape(len(batch) * e, -1), space)
            obs, reward, terminated, truncated, _ = env.step(actions)
            steps += p * e - int(np.count_nonzero(done))
            np.add(returns, np.asarray(reward[mine], dtype=np.float64), out=returns, where=~done)
            done |= np.asarray(terminated[mine]) | np.asarray(truncated[mine])
            running = ~done.reshape(p, e).all(axis=1)[batch]
            if 4 * np.count_nonzero(running) <= 3 * len(batch):  # drop finished individuals once a quarter are
                batch = batch[running]
                rows = first + (batch[:, None] * e + np.arange(e)).ravel()
                nets.keep(running)
        return returns.reshape(p, e), steps


class MorphologyEvaluator:
    """`PopulationEvaluator`s of one population on several bodies: `morphologies` are make() kwargs laid over
    the spec's. Returns are placed side by side, [P, bodies × E], so an individual's mean return is its mean over
    the bodies (each with the same episodes, fresh weights and start seeds)."""

    def __init__(self, env: EnvSpec, net: PlasticNet, total: int, episodes: int, seed: int, morphologies: list):
        self.parts = [
            PopulationEvaluator(replace(env, env_kwargs={**env.env_kwargs, **body}), net, total, episodes, seed)
            for body in morphologies
        ]

    def close(self) -> None:
        for part in self.parts:
            part.close()

    def evaluate(self, genomes: np.ndarray, offset: int, generation: int) -> tuple[np.ndarray, int]:
        """([P, bodies × E] float64, env steps taken) of individuals offset … offset+len(genomes)−1."""
        results = [part.evaluate(genomes, offset, generation) for part in self.parts]
        return np.concatenate([r for r, _ in results], axis=1), sum(s for _, s in results)


def population_evaluator(
    env: EnvSpec, net: PlasticNet, total: int, episodes: int, seed: int, morphologies: list | tuple = ()
) -> PopulationEvaluator | MorphologyEvaluator:
    """A `MorphologyEvaluator` when bodies are given, else a `PopulationEvaluator`."""
    if morphologies:
        return MorphologyEvaluator(env, net, total, episodes, seed, list(morphologies))
    return PopulationEvaluator(env, net, total, episodes, seed)
