"""`underact simulate`: run a built-in system in closed loop on one engine and save the trajectory, plot and GIF.

underact simulate acrobot --controller swingup --backend drake --duration 12 --out runs/acrobot
underact simulate cartpole --controller swingup --backend mujoco --seed 3 --json
underact simulate acrobot --controller none --x0 0.1,0,0,0
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from underact.cli import argtypes
from underact.errors import UnderactError
from underact.files import replacing
from underact.plants import BACKENDS, BUILTINS
from underact.systems import get

SYSTEMS = BUILTINS
CONTROLLERS = ("swingup", "lqr", "pinv", "none")
#: The pinv controller tracks a minimum-jerk swing from the start to upright over this many seconds.
PINV_SWING_S = 3.0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="simulate a built-in system in closed loop (swing-up, LQR, pinv tracking, passive)",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("system", metavar="SYSTEM", choices=SYSTEMS, help=f"one of {', '.join(SYSTEMS)}")
    p.add_argument("--controller", choices=CONTROLLERS, default="swingup", metavar="CONTROLLER",
                   help=f"one of {', '.join(CONTROLLERS)} (default swingup)")
    p.add_argument("--backend", choices=BACKENDS, default="drake", metavar="BACKEND",
                   help=f"one of {', '.join(BACKENDS)} (default drake)")
    p.add_argument("--duration", type=argtypes.seconds(600), default=12.0, help="simulated seconds (default 12)")
    p.add_argument("--seed", type=argtypes.seed, default=0, help="seed of the initial perturbation (default 0)")
    p.add_argument("--x0", type=argtypes.vector, default=None,
                   help="initial state q then v, comma-separated (overrides --seed)")
    p.add_argument("--out", default=None, help="folder for trajectory.npz, plot.png and animation.gif")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON line (the last line)")
    p.add_argument(
        "--html",
        type=argtypes.output_file(".html", ".htm"),
        default=None,
        metavar="FILE.html",
        help="also write an offline 3-D Meshcat replay (play/pause/scrub)",
    )
    p.set_defaults(func=run)


def split_x0(x0: tuple[float, ...], nq: int, nv: int, system: str) -> tuple[np.ndarray, np.ndarray]:
    """--x0's values (`underact.cli.argtypes.vector`) → (q, v); the length must be nq + nv."""
    if len(x0) != nq + nv:
        raise UnderactError(f"--x0 for {system} needs {nq + nv} comma-separated numbers (q then v); got {len(x0)}")
    x = np.array(x0)
    return x[:nq], x[nq:]


def _check_controller(args) -> None:
    if args.controller == "swingup" and get(args.system).swing_up is None:
        with_swing_up = [n for n in SYSTEMS if get(n).swing_up is not None]
        raise UnderactError(f"--controller swingup exists for {', '.join(with_swing_up)}; use lqr, pinv or none")


class _Progress:
    """Wraps a controller so that simulated time shows on a tqdm bar (stderr)."""

    def __init__(self, controller, duration: float, label: str):
        from tqdm import tqdm

        self.controller = controller
        self.bar = tqdm(
            total=round(duration, 2),
            desc=label,
            unit="s sim",
            file=sys.stderr,
            leave=False,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} s [{elapsed}]",
        )

    def __call__(self, t, q, v):
        if t - self.bar.n >= 0.1:
            self.bar.update(round(t - self.bar.n, 2))
        return self.controller(t, q, v)


def _zero_input(nu: int):
    def controller(t, q, v):
        return np.zeros(np.shape(q)[:-1] + (nu,))

    return controller


def build_controller(plant, name: str, q0: np.ndarray):
    """The controller object for `--controller name` on this plant."""
    from underact.control import LQRController, MinimumJerk, PseudoInverseTracking, swing_up_and_balance

    if name == "swingup":
        return swing_up_and_balance(plant)
    if name == "lqr":
        return LQRController(plant)
    if name == "pinv":
        return PseudoInverseTracking(plant, MinimumJerk(q0, plant.upright, PINV_SWING_S))
    return _zero_input(plant.nu)


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """A failed write of `path` (a full disk, a folder gone read-only) as one line naming the file."""
    try:
        yield
    except OSError as exc:
        raise UnderactError(f"--out: could not write {path} ({exc.strerror or exc})") from None


def _write_atomic(path: Path, write) -> None:
    """`write(f)` fills an open binary file that then replaces `path` atomically (`underact.files.replacing`), so
    an interrupted run never leaves half a file."""
    with _writing(path), replacing(path) as tmp, open(tmp, "wb") as f:
        write(f)


def prepare_out(out: Path) -> Path | None:
    """Creates the --out folder and checks a file can be written there, before any simulation runs. Returns the
    outermost folder this call created (removed again if the run fails), or None where `out` existed."""
    if out.exists() and not out.is_dir():
        raise UnderactError(f"--out {out}: exists and is not a folder")
    missing = [folder for folder in (out, *out.absolute().parents) if not folder.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UnderactError(f"--out {out}: cannot create the folder ({exc.strerror})") from None
    try:
        fd, probe = tempfile.mkstemp(dir=out, prefix=".underact-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UnderactError(f"--out {out}: cannot write in the folder ({exc.strerror}); choose another") from None
    return missing[-1] if missing else None


def json_line(result: dict) -> str:
    """The summary as strict JSON: a non-finite number becomes null, with a warning on stderr naming it."""
    safe = {}
    for key, value in result.items():
        values = value if isinstance(value, list) else [value]
        if any(isinstance(x, float) and not math.isfinite(x) for x in values):
            sys.stderr.write(f"underact: warning: {key} is not finite ({value}); written as null\n")
            value = [x if math.isfinite(x) else None for x in values] if isinstance(value, list) else None
        safe[key] = value
    return json.dumps(safe, allow_nan=False)


def run(args) -> int:
    _check_controller(args)
    out = Path(args.out) if args.out else None
    created = prepare_out(out) if out is not None else None
    try:
        return _run(args, out)
    except BaseException:
        if created is not None:  # a failed run (a full disk, Ctrl-C) leaves no folder of its own behind
            shutil.rmtree(created, ignore_errors=True)
        raise


def _run(args, out: Path | None) -> int:
    import underact
    from underact.simulate import initial_state, simulate, summary
    from underact.simulate.animation import write_animation
    from underact.simulate.plot import plot_trajectory

    plant = underact.load(args.system, args.backend)
    if args.x0 is not None:
        q0, v0 = split_x0(args.x0, plant.nq, plant.nv, args.system)
    else:
        q0, v0 = initial_state(plant, args.seed)
    controller = build_controller(plant, args.controller, q0)
    label = f"{args.system} {args.controller} on {args.backend}"
    progress = _Progress(controller, args.duration, label)
    try:
        traj = simulate(plant, progress, q0, v0, args.duration)
    finally:
        progress.bar.close()
    result = summary(plant, traj, args.controller)
    if args.html is not None:
        from underact.view import write_replay_html

        write_replay_html(args.system, traj.t, traj.q, args.html)
        print(f"wrote {args.html}", file=sys.stderr)  # stderr: --json's summary stays the last stdout line

    residual = None
    if args.controller == "pinv":
        residual = np.stack([controller.residual(t, q, v) for t, q, v in zip(traj.t, traj.q, traj.v, strict=True)])
    if out is not None:
        balancing = shaped = None
        if args.controller == "swingup":
            balancing = controller.balancing(traj.q, traj.v)
            shaped = controller.swing_up.energy_error(traj.q, traj.v) + controller.swing_up.E_d
        _write_atomic(out / "trajectory.npz", traj.save)
        _write_atomic(out / "plot.png", lambda p: plot_trajectory(plant, traj, p, label, balancing, residual, shaped))
        with _writing(out / "animation.gif"):
            write_animation(args.system, traj, out / "animation.gif")  # atomic too (`underact.render.write_gif`)

    if args.json:
        print(json_line(result))
        return 0
    state = "upright" if result["upright"] else "not upright"
    when = f" from t = {result['time_to_upright']:.2f} s" if result["upright"] else ""
    print(
        f"{label}: {state}{when}; max |u| = {result['max_abs_u']:.2f}; E − E_upright = {result['energy_error']:.3g} J"
    )
    print(f"final q = {np.round(result['final_q'], 4).tolist()}, final v = {np.round(result['final_v'], 4).tolist()}")
    if residual is not None:
        print(
            f"pinv residual |f1 + f2 u − q̈_d|: max {np.linalg.norm(residual, axis=-1).max():.3g}, "
            f"mean {np.linalg.norm(residual, axis=-1).mean():.3g} (what the inputs cannot do)"
        )
    if out is not None:
        print(f"wrote {out / 'trajectory.npz'}, {out / 'plot.png'}, {out / 'animation.gif'}")
    return 0
