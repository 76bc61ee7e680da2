"""Compiled population rollouts on the project's own environments: physics and plastic networks in one loop.

For `underact/CartPole*` and `underact/Acrobot*` (their native vector environments, analytic backend), one
numba-compiled kernel runs each individual's E episodes from start to end with no Python per step: the network's
fused layer kernels (`underact.agents.kernels`, called as functions) and the environment's own per-copy step
(`advance` of `underact.envs.packed.fused_kernels`: the closed form's RK4, observation, reward, termination and
divergence rule) alternate inside it. Individuals run in parallel (`prange`), each on its own data: an
individual's weights and coefficients (≈ 280 kB at (128, 64)) stay in its core's L2 cache for its whole episodes,
where the step-synchronous rollout must stream the whole population's ≈ 18 MB from L3 every step.

It plays the episodes `underact.agents.rollout.PopulationEvaluator`'s vector-environment path plays: the same start
states (the vector environment's reset, made and seeded as there), the same physics, action mapping and episode ends
(IEEE arithmetic, no fast-math: equal to the last bit, tested with passive bodies), the same layer code (whose
vectorised sums may round differently in another context: the networks agree to float32 rounding). A non-finite
action or a diverging state is refused with the vector environment's own one-line errors.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numba import njit, prange

from underact.agents import kernels
from underact.agents.hebbian import PlasticBatch, PlasticNet

# Our environments' modules (and through them the simulators, with scipy) are imported only when one of their
# rollouts is built: a run on Gymnasium's CartPole-v1 does not pay for them.


@njit(inline="always", cache=True, error_model="numpy")
def network_step(ws, cos, columns, plastic, acts, p, n_p, t):  # pragma: no cover - compiled
    """Step t of individual p's networks, every layer (the pending Hebbian update first, from step 1 on): the
    activations alternate between rows p and P + p of acts; returns (q, r), this step's row and the last step's."""
    q, r = p + n_p * (t & 1), p + n_p * ((t + 1) & 1)
    mode = kernels.UPDATE_DOT if plastic and t > 0 else kernels.DOT
    for layer in range(len(ws)):
        a, b = acts[layer], acts[layer + 1]
        kernels.individual_step(ws[layer], cos[layer], a, b, a, b, p, r, q, mode, columns[layer])
    return q, r


@cache
def rollout_kernel(system: str):
    """The compiled rollout for one system with environments (`underact.systems`), around its environments'
    per-copy step."""
    from underact import systems
    from underact.envs.packed import system_kernels
    from underact.errors import UnderactError

    try:
        record = systems.get(system)
    except UnderactError:
        record = None
    if record is None or record.task is None:
        raise ValueError(f"no compiled rollout for system {system!r}")
    return _build(system_kernels(record).advance)


def _build(advance):
    from underact.envs.packed import BAD_ACTION, UNBOUNDED
    from underact.simulate.rk4 import held_force, row

    @njit(cache=True, error_model="numpy")
    def force_of(out, low, high, gain, limit):  # pragma: no cover - compiled
        """The force a network output commands, as the step-by-step path computes it: `to_actions` (out + 1 and the
        halving in float32, as numpy computes them on a float32 array), the float32 action, then the environment's
        clipping and gain (`held_force`). Returns (force, finite). Compiled without fast-math: IEEE, NaN kept."""
        half = (out + np.float32(1.0)) * np.float32(0.5)
        return held_force(np.float64(np.float32(low + np.float64(half) * (high - low))), gain, limit)

    # No fast-math here: the action mapping, the force's NaN check and the environment's step (`force_of`,
    # `advance`) keep IEEE arithmetic and equal the step-by-step path's to the last bit (tested with passive bodies).
    # The layer kernels are called as functions of their own with their limited fast-math (inlined here, they ran
    # 25 % slower in this larger loop).
    @njit(parallel=True, cache=True, error_model="numpy")
    def rollout(
        ws,
        cos,
        columns,
        plastic,
        acts,
        x,
        first,
        low,
        high,
        gain,
        limit,
        vdot_constants,
        outcome_constants,
        step_size,
        substeps,
        max_steps,
        returns,
        lengths,
        flags,
    ):  # pragma: no cover - compiled
        """Individual p's episodes e are copies first + p·E + e; x (4, P·E) their start states (on return, their
        last state, or for a refused copy the state before the refused step); acts[l] (2P, E, size of layer l) two
        steps' activations per layer (rows p and P + p, alternating; acts[0] rows p hold the first observations);
        returns, lengths (live steps) and flags (`BAD_ACTION`, `UNBOUNDED`) [P, E] are written."""
        n_p, n_e = returns.shape
        out = len(acts) - 1
        for p in prange(n_p):
            live = np.ones(n_e, dtype=np.bool_)
            t, running = 0, n_e
            while running > 0:
                q, r = network_step(ws, cos, columns, plastic, acts, p, n_p, t)
                for e in range(n_e):
                    if not live[e]:  # a finished episode's network keeps its last input (its outputs are unused)
                        for m in range(acts[0].shape[2]):
                            acts[0][r, e, m] = acts[0][q, e, m]
                        continue
                    j, i = p * n_e + e, first + p * n_e + e
                    force, finite = force_of(acts[out][q, e, 0], low, high, row(gain, i), limit)
                    q1, q2, v1, v2, values, reward, terminated, inside = advance(
                        x[0, j],
                        x[1, j],
                        x[2, j],
                        x[3, j],
                        force,
                        row(vdot_constants, i),
                        row(outcome_constants, i),
                        step_size,
                        substeps,
                    )
                    if not (finite and inside):  # refused after the kernel; x keeps the state before this step
                        flags[p, e] = (BAD_ACTION if not finite else 0) | (UNBOUNDED if not inside else 0)
                        live[e] = False
                        running -= 1
                        continue
                    x[0, j], x[1, j], x[2, j], x[3, j] = q1, q2, v1, v2
                    for m in range(len(values)):
                        acts[0][r, e, m] = values[m]
                    returns[p, e] += reward
                    lengths[p, e] += 1
                    if terminated or (max_steps >= 0 and lengths[p, e] >= max_steps):
                        live[e] = False
                        running -= 1
                t += 1

    return rollout


def compiled_env(env, net: PlasticNet) -> bool:
    """Whether a compiled rollout can play `net` on `env` (a vector environment) itself, with no wrapper in front (a
    wrapper, e.g. an encoder, changes what the network sees): one of our systems' vector environments (a
    `SystemTask`: acrobot, cart-pole, Furuta pendulum) whose observation is the network's input and whose one force
    is its output, or Gymnasium's CartPole vector environment (`gym_cartpole`) with two outputs. Never with `norm`."""
    inner = env.unwrapped
    if env is not inner or net.norm:
        return False
    if type(inner).__module__ == "gymnasium.envs.classic_control.cartpole":
        return gym_cartpole(inner) and net.sizes[0] == 4 and net.sizes[-1] == 2
    if not type(inner).__module__.startswith("underact.envs"):
        return False
    from underact.envs.task import SystemTask
    from underact.envs.vector import UnderactVectorEnv

    return (
        isinstance(inner, UnderactVectorEnv)
        and isinstance(inner.task, SystemTask)
        and net.sizes[0] == inner.task.obs_dim
        and net.sizes[-1] == 1
    )


def evaluate(net: PlasticNet, weights: list, coefficients: list | None, env, obs, first: int, episodes: int):
    """Returns [P, E] float64 and live agent-steps of P individuals (weights [P, E, out, in] per layer, the
    layers' `kernel_args` or None for `static`) on copies first … first + P·E − 1 of `env` (one of ours, just reset
    and returning observations `obs`), in one compiled call. `net.norm` is not supported (the trainer's evaluator
    keeps its step-by-step path for it)."""
    if not compiled_env(env, net):  # the kernel writes observations into the network's input: sizes must agree
        raise ValueError(f"the compiled rollout cannot play network {net.sizes} (norm={net.norm}) on {env}")
    inner = env.unwrapped
    if type(inner).__module__ == "gymnasium.envs.classic_control.cartpole":
        return _evaluate_gym_cartpole(net, weights, coefficients, inner, obs, first, episodes)
    from underact.envs.packed import batch_constants

    task = inner.task
    nets = PlasticBatch(net, weights, coefficients)
    p = len(nets.w[0])
    acts = tuple(np.zeros((2 * p, episodes, size), np.float32) for size in net.sizes)
    acts[0][:p] = np.asarray(obs[first : first + p * episodes], np.float32).reshape(p, episodes, -1)
    x = np.ascontiguousarray(inner.state[first : first + p * episodes].T)
    space = inner.single_action_space
    limit = -1 if inner.max_episode_steps is None else int(inner.max_episode_steps)
    constants = batch_constants(task, inner.actuator_gain, limit, 0)
    returns, lengths = np.zeros((p, episodes)), np.zeros((p, episodes), np.int64)
    flags = np.zeros((p, episodes), np.uint8)
    rollout_kernel(task.name)(
        tuple(nets.w),
        tuple(nets.co),
        tuple(nets.columns),
        net.plastic,
        acts,
        x,
        first,
        float(space.low[0]),
        float(space.high[0]),
        constants.gain,
        constants.limit,
        constants.vdot_constants,
        constants.outcome_constants,
        constants.step_size,
        constants.substeps,
        limit,
        returns,
        lengths,
        flags,
    )
    if flags.any():
        _refuse(inner, flags, x, lengths, first, episodes)
    return returns, int(lengths.sum())


def _refuse(env, flags: np.ndarray, x: np.ndarray, lengths: np.ndarray, first: int, episodes: int):
    """The vector environment's one-line error for the first flagged copy."""
    from underact.envs.packed import BAD_ACTION
    from underact.simulate.divergence import OUT_OF_BOUNDS, divergence

    p, e = np.argwhere(flags)[0]
    j, copy, steps = p * episodes + e, first + p * episodes + e, int(lengths[p, e])
    if flags[p, e] & BAD_ACTION:
        raise ValueError(f"actions must be finite forces; got nan for env {copy}")
    t = steps * env.dt
    why = f"{OUT_OF_BOUNDS} (network output)"
    raise divergence("analytic", f"{env.task.name} (env {copy})", t, steps, x[:2, j], x[2:, j], why)


# --- Gymnasium's CartPole-v1 ------------------------------------------------------------------------------------


def gym_cartpole(env) -> bool:
    """Whether `env` is Gymnasium's `CartPoleVectorEnv` with the step `_gym_cartpole_rollout` reproduces: Euler
    integration, the +1-per-step reward, a time limit."""
    from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv

    return (
        type(env) is CartPoleVectorEnv
        and env.kinematics_integrator == "euler"
        and not env._sutton_barto_reward
        and env.max_episode_steps is not None
    )


# Serial and cached: numba's cached object of a `parallel=True` version computed the network's float32 sums
# differently from the same function compiled in the process, so a warm cache changed episodes (see
# `kernels._rows_threads`); the trainer runs on one thread anyway (`backends.set_threads`).
@njit(cache=True, error_model="numpy")
def _gym_cartpole_rollout(
    ws, cos, columns, plastic, acts, x, constants, max_steps, returns, lengths
):  # pragma: no cover
    """Gymnasium's `CartPoleVectorEnv.step`, copy by copy, in its own float64 arithmetic and order (no fast-math:
    equal to the last bit), inside the population rollout of `_build`'s kernel. The action is numpy's argmax of the
    two outputs (the first maximum; a NaN counts as the maximum). x (4, P·E) start states; acts, returns and
    lengths as there. An episode ends when the pole or cart leaves its bounds (that step earns its reward, as in
    Gymnasium) or at `max_steps` steps."""
    gravity, masspole, total_mass, length, polemass_length, force_mag, tau, x_limit, theta_limit = constants
    n_p, n_e = returns.shape
    out = len(acts) - 1
    for p in range(n_p):
        live = np.ones(n_e, dtype=np.bool_)
        t, running = 0, n_e
        while running > 0:
            q, r = network_step(ws, cos, columns, plastic, acts, p, n_p, t)
            for e in range(n_e):
                if not live[e]:  # a finished episode's network keeps its last input (its outputs are unused)
                    for m in range(4):
                        acts[0][r, e, m] = acts[0][q, e, m]
                    continue
                j = p * n_e + e
                o0, o1 = acts[out][q, e, 0], acts[out][q, e, 1]
                push = not np.isnan(o0) and (np.isnan(o1) or o1 > o0)
                force = force_mag if push else -force_mag  # np.sign(action - 0.5) * force_mag
                pos, vel, theta, omega = x[0, j], x[1, j], x[2, j], x[3, j]
                cos_t, sin_t = np.cos(theta), np.sin(theta)
                temp = (force + polemass_length * (omega * omega) * sin_t) / total_mass
                alpha = (gravity * sin_t - cos_t * temp) / (
                    length * (4.0 / 3.0 - masspole * (cos_t * cos_t) / total_mass)
                )
                acc = temp - polemass_length * alpha * cos_t / total_mass
                pos, vel, theta, omega = pos + tau * vel, vel + tau * acc, theta + tau * omega, omega + tau * alpha
                x[0, j], x[1, j], x[2, j], x[3, j] = pos, vel, theta, omega
                acts[0][r, e, 0], acts[0][r, e, 1] = np.float32(pos), np.float32(vel)
                acts[0][r, e, 2], acts[0][r, e, 3] = np.float32(theta), np.float32(omega)
                returns[p, e] += 1.0
                lengths[p, e] += 1
                if pos < -x_limit or pos > x_limit or theta < -theta_limit or theta > theta_limit:
                    live[e] = False
                    running -= 1
                elif lengths[p, e] >= max_steps:
                    live[e] = False
                    running -= 1
            t += 1


def _evaluate_gym_cartpole(net: PlasticNet, weights: list, coefficients: list | None, env, obs, first, episodes):
    """`evaluate` on Gymnasium's CartPole vector environment `env`, just reset."""
    nets = PlasticBatch(net, weights, coefficients)
    p = len(nets.w[0])
    acts = tuple(np.zeros((2 * p, episodes, size), np.float32) for size in net.sizes)
    acts[0][:p] = np.asarray(obs[first : first + p * episodes], np.float32).reshape(p, episodes, -1)
    x = np.ascontiguousarray(env.state[:, first : first + p * episodes], dtype=np.float64)
    constants = (
        float(env.gravity),
        float(env.masspole),
        float(env.total_mass),
        float(env.length),
        float(env.polemass_length),
        float(env.force_mag),
        float(env.tau),
        float(env.x_threshold),
        float(env.theta_threshold_radians),
    )
    returns, lengths = np.zeros((p, episodes)), np.zeros((p, episodes), np.int64)
    _gym_cartpole_rollout(
        tuple(nets.w),
        tuple(nets.co),
        tuple(nets.columns),
        net.plastic,
        acts,
        x,
        constants,
        int(env.max_episode_steps),
        returns,
        lengths,
    )
    return returns, int(lengths.sum())
