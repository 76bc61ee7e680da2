"""Reference controllers: the textbook controller of each task, acting through the Gymnasium API at the task's dt.

A task is only as good as the controller that solves it. Each environment has one here, and a test runs it through
`gymnasium.make` on 100 seeded starts:

- balance: a sampled-data LQR (`underact.control.DiscreteLQRController`: exact zero-order hold at the environment's
  dt, discrete Riccati gain) about upright;
- swing-up: the system's energy-shaping swing-up (Spong's for the acrobot, the cart-pole's pole energy with a cart
  term, Åström & Furuta's for the Furuta pendulum: each system record's `swing_up`), handing over to that LQR where
  the continuous LQR's cost-to-go x̃ᵀSx̃ is below the threshold tuned for it (the record's `switch`).

The policy sees only the observation: angles come back from their (cos, sin) pair, velocities are observed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from underact import systems
from underact.control import DiscreteLQRController, LQRController
from underact.control.switching import SwingUpAndBalance


class _SampledSwingUpAndBalance(SwingUpAndBalance):
    """Switches where the continuous LQR's cost-to-go is below the threshold tuned for it (the record's `switch`),
    then balances with the sampled-data gain."""

    def __init__(self, swing_up, lqr: DiscreteLQRController, threshold: float):
        super().__init__(swing_up, lqr, threshold)
        self.switch = LQRController(lqr.plant, Q=lqr.Q, R=lqr.R, u_limit=lqr.u_limit)

    def balancing(self, q: np.ndarray, v: np.ndarray) -> np.ndarray:
        return self.switch.cost(q, v) < self.threshold


def state_from_observation(system: str, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(q, v) from an observation of `system`'s environments: the inverse of its observation (its record's
    `task.unobserve`)."""
    return systems.get(system).task.unobserve(obs)


def reference_controller(env, design=None) -> Callable[[np.ndarray], np.ndarray]:
    """policy(obs) -> action for an `underact/…-v0` environment (its system, task and dt).

    `design`: the parameters the controller is designed for (`underact.plants.analytic` params); by default the
    environment's own. Pass the nominal ones to see how the controller copes with a body it was not designed for."""
    task = getattr(env.unwrapped, "task", None)
    record = getattr(task, "record", None)
    if record is None or record.swing_up is None:
        raise ValueError(f"reference controllers exist for the underact/… ids of the built-in systems; got "
                         f"{env.spec.id}")
    plant = record.plant(task.params if design is None else design)
    lqr = DiscreteLQRController(plant, task.dt, u_limit=plant.u_limit, **record.lqr)
    if task.goal == "balance":
        controller = lqr
    else:
        controller = _SampledSwingUpAndBalance(record.swing_up(plant, plant.u_limit), lqr, record.switch)

    def policy(obs: np.ndarray) -> np.ndarray:
        q, v = state_from_observation(task.name, obs)
        return np.asarray(controller(0.0, q, v), dtype=np.float32).reshape(1)

    return policy


def evaluate(env_id: str, episodes: int = 100, seed: int = 0, design=None, **kwargs) -> np.ndarray:
    """Returns of the reference controller over `episodes` seeded starts (seeds seed, seed + 1, …)."""
    import gymnasium

    env = gymnasium.make(env_id, **kwargs)
    returns = np.empty(episodes)
    for k in range(episodes):
        obs, _ = env.reset(seed=seed + k)
        policy, total, done = reference_controller(env, design), 0.0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            total += float(reward)
            done = terminated or truncated
        returns[k] = total
    env.close()
    return returns
