"""MuJoCo, in one place: the import, the warning hook, loading and compiling models, and stepping.

Warnings: MuJoCo would append them to MUJOCO_LOG.TXT in the current directory. Importing this module installs the
one hook, once: each warning becomes a Python `RuntimeWarning` ("MuJoCo: …"); `messages(sink)` collects them into a
list instead while its block runs (a description's reader reports them as findings), then puts the previous hook
back.

Loading: `load_file`, `load_string`, `spec_file`, `spec_string` and `compile_spec` turn MuJoCo's errors (multi-line,
"Error: " first) into one `UnderactError` line naming the model (`engine_message`).

Stepping: `prepare` and `step` are the one place that steps MuJoCo (simulations through
`underact.simulate.mujoco`, the environments through its `MujocoStepper`): MuJoCo's own reaction to a blow-up,
resetting the state and counting a warning, is switched off and its counters are read instead, so the caller can
raise `DivergenceError` (see `underact.simulate.divergence`) and nothing resets.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mujoco

from underact.errors import UnderactError, one_line
from underact.simulate.divergence import OUT_OF_BOUNDS, bounded

__all__ = ["compile_spec", "engine_message", "load_file", "load_string", "messages", "mujoco", "prepare",
           "spec_file", "spec_string", "step"]


def _warn(message: str) -> None:
    warnings.warn(f"MuJoCo: {message.strip()}", RuntimeWarning, stacklevel=2)


mujoco.set_mju_user_warning(_warn)  # else MuJoCo appends to MUJOCO_LOG.TXT in the current directory


@contextmanager
def messages(sink: list[str]) -> Iterator[list[str]]:
    """MuJoCo's warnings while the block runs, appended to `sink` ("MuJoCo: …", one line each) instead of warned:
    its log (the hook) and the Python warnings its bindings raise where this module compiles (`MjSpec.compile`).
    The previous hook is put back; other Python warnings go on."""
    previous = mujoco.get_mju_user_warning()
    mujoco.set_mju_user_warning(lambda message: sink.append(_line(message)))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield sink
    finally:
        mujoco.set_mju_user_warning(previous)
    for w in caught:
        if w.filename == __file__:
            sink.append(_line(str(w.message)))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _line(message: str) -> str:
    return " ".join(f"MuJoCo: {message}".split())


def engine_message(exc: Exception) -> str:
    """MuJoCo's message in one line, without the "Error: " its compiler puts first."""
    return one_line(exc).removeprefix("Error: ")


def _refused(label: str, doing: str, exc: Exception) -> UnderactError:
    return UnderactError(f"{label}: MuJoCo could not {doing}: {engine_message(exc)}")


def load_file(path: str | Path, label: str | None = None) -> mujoco.MjModel:
    """The compiled model of an MJCF (or URDF) file; MuJoCo's refusal is one line naming `label` (the path)."""
    try:
        return mujoco.MjModel.from_xml_path(str(path))
    except ValueError as exc:
        raise _refused(label or str(path), "load the model", exc) from None


def load_string(text: str, label: str, assets: dict | None = None) -> mujoco.MjModel:
    """The compiled model of MJCF text (`assets`: file name → bytes it may reference)."""
    try:
        return mujoco.MjModel.from_xml_string(text, assets or {})
    except ValueError as exc:
        raise _refused(label, "load the model", exc) from None


def spec_file(path: str | Path, label: str | None = None) -> mujoco.MjSpec:
    """An editable `MjSpec` of a model file, not compiled yet."""
    try:
        return mujoco.MjSpec.from_file(str(path))
    except ValueError as exc:
        raise _refused(label or str(path), "load the model", exc) from None


def spec_string(text: str, label: str, what: str = "model") -> mujoco.MjSpec:
    """An editable `MjSpec` of model text (`what` names it in the error: "model", "URDF")."""
    try:
        return mujoco.MjSpec.from_string(text)
    except ValueError as exc:
        raise _refused(label, f"read the {what}", exc) from None


def compile_spec(spec: mujoco.MjSpec, label: str) -> mujoco.MjModel:
    try:
        return spec.compile()
    except ValueError as exc:
        raise _refused(label, "compile the model", exc) from None


#: MuJoCo's divergence warnings (a NaN, infinite or beyond-mjMAXVAL qpos, qvel, qacc or ctrl; MuJoCo zeroes a bad
#: ctrl on its own), with the name of each.
DIVERGENCE_WARNINGS = {
    int(mujoco.mjtWarning.mjWARN_BADQPOS): "qpos",
    int(mujoco.mjtWarning.mjWARN_BADQVEL): "qvel",
    int(mujoco.mjtWarning.mjWARN_BADQACC): "qacc",
    int(mujoco.mjtWarning.mjWARN_BADCTRL): "ctrl",
}


def prepare(model: mujoco.MjModel, data: mujoco.MjData) -> None:
    """Turns MuJoCo's automatic reset on divergence off and primes its divergence warning counters.

    MuJoCo prints (and writes MUJOCO_LOG.TXT for) a warning only the first time its counter goes up from zero;
    starting the counters at one keeps it quiet, and `step` reports each increase.
    """
    model.opt.disableflags |= int(mujoco.mjtDisableBit.mjDSBL_AUTORESET)
    for i in DIVERGENCE_WARNINGS:
        data.warning[i].number = max(1, data.warning[i].number)


def step(model: mujoco.MjModel, data: mujoco.MjData, n: int = 1) -> str | None:
    """`n` calls of `mj_step` on a prepared model and data; why the state diverged, or None if it did not."""
    before = [data.warning[i].number for i in DIVERGENCE_WARNINGS]
    for _ in range(n):
        mujoco.mj_step(model, data)
    for (i, what), count in zip(DIVERGENCE_WARNINGS.items(), before, strict=True):
        if data.warning[i].number != count:
            index = data.warning[i].lastinfo
            return f"MuJoCo found a NaN, infinite or huge (> {mujoco.mjMAXVAL:g}) {what}[{index}]"
    if not bounded(data.qpos, data.qvel):
        return OUT_OF_BOUNDS
    return None
