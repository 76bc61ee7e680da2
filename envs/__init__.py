"""Gymnasium environments for the built-in systems with tasks; importing this package registers them.

    import gymnasium, underact.envs
    env = gymnasium.make("underact/AcrobotSwingUp-v0", backend="mujoco", render_mode="rgb_array")
    vec = gymnasium.make_vec("underact/CartPoleBalance-v0", num_envs=1024, vectorization_mode="vector_entry_point")

Ids: `underact/AcrobotSwingUp-v0`, `underact/AcrobotBalance-v0`, `underact/CartPoleSwingUp-v0`,
`underact/CartPoleBalance-v0`, `underact/FurutaSwingUp-v0`, `underact/FurutaBalance-v0` (one pair per system with
tasks in `underact.systems`), each truncated at 500 steps, and `underact/AntDamaged-v0` (`underact.envs.ant`).
Registration names entry points as strings, so importing this package loads no engine and no environment
module: MuJoCo is imported when an Ant environment is made, and `AcrobotEnv` & co. when first used.

See `AcrobotEnv` and `CartPoleEnv` for the manuals (the others' are their system modules' docstrings, e.g.
`underact.systems.furuta`),
`underact.envs.wrappers` for pixel observations, observation history and hidden velocities, and
`underact.envs.reference` for the textbook controller that solves each task (the registered `reward_threshold`
lies below its mean return).
"""

from __future__ import annotations

import importlib

import gymnasium

from underact import systems

MAX_EPISODE_STEPS = 500

#: id → (system, task) and id → registered `reward_threshold`, of every built-in with tasks (`underact.systems`:
#: its line of `BUILTINS`, so that registering imports no system module). Each threshold lies below the mean return
#: of the task's reference controller (`underact.envs.reference`) over 100 seeded starts.
ENV_IDS = {env_id: (system, task) for env_id, (system, task, _) in systems.tasks().items()}
REWARD_THRESHOLDS = {env_id: threshold for env_id, (_, _, threshold) in systems.tasks().items()}

#: Titles whose environments have classes (and manuals) of their own, `underact.envs.<system>:<Title>Env` and
#: `underact.envs.vector:<Title>VectorEnv`; every other system's are `SystemEnv` / `SystemVectorEnv`.
_OWN_CLASSES = ("Acrobot", "CartPole")


def _entry_points(system: str) -> tuple[str, str, dict]:
    """(entry point, vector entry point, kwargs) of a system's tasks."""
    title = systems.BUILTINS[system].title
    if title not in _OWN_CLASSES:
        return "underact.envs.base:SystemEnv", "underact.envs.vector:SystemVectorEnv", {"system": system}
    return f"underact.envs.{system}:{title}Env", f"underact.envs.vector:{title}VectorEnv", {}


def _register() -> None:
    for env_id, (system, task) in ENV_IDS.items():
        if env_id in gymnasium.registry:
            continue
        single, vector, kwargs = _entry_points(system)
        gymnasium.register(
            id=env_id,
            entry_point=single,
            vector_entry_point=vector,
            max_episode_steps=MAX_EPISODE_STEPS,
            reward_threshold=REWARD_THRESHOLDS[env_id],
            kwargs={**kwargs, "task": task},
        )
    if ANT_ID not in gymnasium.registry:
        gymnasium.register(
            id=ANT_ID,
            entry_point="underact.envs.ant:AntDamagedEnv",
            vector_entry_point="underact.envs.ant:AntVectorEnv",
            max_episode_steps=ANT_MAX_EPISODE_STEPS,
        )


#: Gymnasium's Ant-v5 with a damaged leg (`underact.envs.ant`), registered here so that MuJoCo loads only when
#: one is made; the numbers are Ant-v5's (`underact.envs.ant` checks they agree).
ANT_ID = "underact/AntDamaged-v0"
ANT_MAX_EPISODE_STEPS = 1000

_register()

#: The classes, imported on first use (`from underact.envs import AcrobotEnv` works as before).
_LAZY = {
    "AcrobotEnv": "underact.envs.acrobot",
    "CartPoleEnv": "underact.envs.cartpole",
    "AcrobotVectorEnv": "underact.envs.vector",
    "CartPoleVectorEnv": "underact.envs.vector",
    "UnderactVectorEnv": "underact.envs.vector",
    "SystemEnv": "underact.envs.base",
    "SystemVectorEnv": "underact.envs.vector",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "ENV_IDS",
    "REWARD_THRESHOLDS",
    "AcrobotEnv",
    "AcrobotVectorEnv",
    "CartPoleEnv",
    "CartPoleVectorEnv",
    "SystemEnv",
    "SystemVectorEnv",
    "UnderactVectorEnv",
]
