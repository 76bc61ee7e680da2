"""A recorded trajectory (t, q, v, u) and the summary numbers `underact simulate` reports about it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from underact.control.lqr import angle_mask, wrap_angles
from underact.plants.base import Plant

#: "Upright" means: the last `UPRIGHT_WINDOW` seconds stay within `UPRIGHT_ANGLE` rad of the upright
#: configuration with every speed below `UPRIGHT_SPEED`.
UPRIGHT_WINDOW, UPRIGHT_ANGLE, UPRIGHT_SPEED = 2.0, 0.05, 0.2


@dataclass(frozen=True)
class Trajectory:
    """t (T,), q (T, nq), v (T, nv), u (T, nu); u[k] is the input applied from t[k] on."""

    t: np.ndarray
    q: np.ndarray
    v: np.ndarray
    u: np.ndarray

    def save(self, path: str | Path | BinaryIO) -> None:
        np.savez(path, t=self.t, q=self.q, v=self.v, u=self.u)


def near_upright(plant: Plant, q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """True (T,) where every coordinate is within UPRIGHT_ANGLE of upright and every speed below UPRIGHT_SPEED.

    The cart's position is free: only angles are compared for coordinates that are angles; a prismatic
    coordinate counts only through its speed.
    """
    angles = angle_mask(plant)
    err = np.abs(wrap_angles(q - plant.upright, angles))
    close = np.all(np.where(angles, err < UPRIGHT_ANGLE, True), axis=-1)
    return close & np.all(np.abs(v) < UPRIGHT_SPEED, axis=-1)


def time_to_upright(plant: Plant, traj: Trajectory) -> float | None:
    """The first time after which the trajectory stays near upright to the end, if the last 2 s qualify."""
    ok = near_upright(plant, traj.q, traj.v)
    if not ok.size or not ok[-1]:
        return None
    bad = np.flatnonzero(~ok)
    start = traj.t[bad[-1] + 1] if bad.size else traj.t[0]
    return float(start) if traj.t[-1] - start >= UPRIGHT_WINDOW - 1e-9 else None


def summary(plant: Plant, traj: Trajectory, controller: str) -> dict:
    """The `--json` summary: system, backend, controller, upright, time to upright, final state, max |u|, E − E*."""
    t_up = time_to_upright(plant, traj)
    e_goal = float(plant.energy(plant.upright, np.zeros(plant.nv)))
    return {
        "system": plant.name,
        "backend": plant.backend,
        "controller": controller,
        "upright": t_up is not None,
        "time_to_upright": None if t_up is None else round(t_up, 3),
        "final_q": traj.q[-1].tolist(),
        "final_v": traj.v[-1].tolist(),
        "max_abs_u": float(np.abs(traj.u).max()) if traj.u.size else 0.0,
        "energy_error": float(plant.energy(traj.q[-1], traj.v[-1]) - e_goal),
    }
