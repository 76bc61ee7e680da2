"""The `plot.png` of a run: angles, velocities, input and energy against time, the switch to balancing marked."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np

from underact.plants.base import Plant
from underact.simulate.trajectory import Trajectory


def upright_reached(plant, q_final: np.ndarray) -> np.ndarray:
    """The upright configuration nearest to `q_final`: each angle's upright shifted by the whole turns the motion
    made (a cart-pole swung up clockwise balances at −π, not at the model's +π); other coordinates as they are."""
    upright = np.asarray(plant.upright, dtype=float)
    turns = np.where(plant.angle_mask, np.round((np.asarray(q_final) - upright) / (2 * np.pi)), 0.0)
    return upright + 2 * np.pi * turns


def plot_trajectory(
    plant: Plant,
    traj: Trajectory,
    path: str | Path | BinaryIO,
    title: str,
    balancing: np.ndarray | None = None,
    residual: np.ndarray | None = None,
    shaped_energy: np.ndarray | None = None,
) -> None:
    """Writes a PNG with one panel each for q, v, u and energy (plus the pinv residual when given).

    `balancing` (T,) marks where the LQR is in charge: shaded, with a line where it takes over for good.
    `shaped_energy` (T,) is the energy the swing-up controller regulates (the pole's, for the cart-pole).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 5 if residual is not None else 4
    fig, axes = plt.subplots(panels, 1, figsize=(8, 2.1 * panels), sharex=True)
    names = plant.velocity_names
    for i, name in enumerate(names):
        axes[0].plot(traj.t, traj.q[:, i], label=name)
        axes[1].plot(traj.t, traj.v[:, i], label=name)
    for i, upright in enumerate(upright_reached(plant, traj.q[-1])):
        axes[0].axhline(upright, color=f"C{i}", lw=0.6, ls=":")
    axes[0].set_ylabel("q (rad, m)")
    axes[1].set_ylabel("v (rad/s, m/s)")
    for j, name in enumerate(plant.actuator_names):
        axes[2].plot(traj.t, traj.u[:, j], label=name)
    axes[2].set_ylabel("u (N·m, N)")
    energy = plant.energy(traj.q, traj.v)
    axes[3].plot(traj.t, energy, color="k", label="E")
    if shaped_energy is not None:
        axes[3].plot(traj.t, shaped_energy, color="C2", ls="-.", label="swing-up's E")
    axes[3].axhline(float(plant.energy(plant.upright, np.zeros(plant.nv))), color="r", ls="--", label="E upright")
    axes[3].set_ylabel("energy (J)")
    if residual is not None:
        axes[4].plot(traj.t, np.linalg.norm(residual, axis=-1), color="C3", label="|f1 + f2 u − q̈_d|")
        axes[4].set_ylabel("residual (1/s²)")
    takeover = None
    if balancing is not None and balancing[-1]:
        off = np.flatnonzero(~balancing)
        takeover = float(traj.t[off[-1] + 1] if off.size else traj.t[0])
    for ax in axes:
        if balancing is not None:
            ax.fill_between(
                traj.t,
                0,
                1,
                where=balancing,
                transform=ax.get_xaxis_transform(),
                color="m",
                alpha=0.08,
                lw=0,
                label="LQR in charge",
            )
        if takeover is not None:
            ax.axvline(takeover, color="m", lw=1.0, ls="--", label=f"LQR takes over ({takeover:.2f} s)")
        ax.legend(loc="upper right", fontsize=7)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("time (s)")
    axes[0].set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90, format="png")
    plt.close(fig)
