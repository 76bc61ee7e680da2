"""Gymnasium environments for the acrobot and the cart-pole; importing this package registers them.

    import gymnasium, underact.envs
    env = gymnasium.make("underact/AcrobotSwingUp-v0", backend="mujoco", render_mode="rgb_array")
    vec = gymnasium.make_vec("underact/CartPoleBalance-v0", num_envs=1024, vectorization_mode="vector_entry_point")

Ids: `underact/AcrobotSwingUp-v0`, `underact/AcrobotBalance-v0`, `underact/CartPoleSwingUp-v0`,
`underact/CartPoleBalance-v0`, each truncated at 500 steps, and `underact/AntDamaged-v0` (`underact.envs.ant`).
Registration names entry points as strings, so importing this package loads no engine and no environment
module: MuJoCo is imported when an Ant environment is made, and `AcrobotEnv` & co. when first used.

See `AcrobotEnv` and `CartPoleEnv` for the manuals,
`underact.envs.wrappers` for pixel observations, observation history and hidden velocities, and
`underact.envs.reference` for the textbook controller that solves each task (the registered `reward_threshold`
lies below its mean return).
"""

from __future__ import annotations

import importlib

import gymnasium

MAX_EPISODE_STEPS = 500

ENV_IDS = {
    "underact/AcrobotSwingUp-v0": ("acrobot", "swingup"),
    "underact/AcrobotBalance-v0": ("acrobot", "balance"),
    "underact/CartPoleSwingUp-v0": ("cartpole", "swingup"),
    "underact/CartPoleBalance-v0": ("cartpole", "balance"),
}

#: Below the mean return of each task's reference controller (`underact.envs.reference`) over 100 seeded starts:
#: balance 500.0 ± 0.0 on both systems; swing-up 438.0 ± 86.6 (acrobot) and 443.6 ± 5.2 (cart-pole).
REWARD_THRESHOLDS = {
    "underact/AcrobotSwingUp-v0": 400.0,
    "underact/AcrobotBalance-v0": 475.0,
    "underact/CartPoleSwingUp-v0": 430.0,
    "underact/CartPoleBalance-v0": 475.0,
}

_ENTRY_POINTS = {
    "acrobot": ("underact.envs.acrobot:AcrobotEnv", "underact.envs.vector:AcrobotVectorEnv"),
    "cartpole": ("underact.envs.cartpole:CartPoleEnv", "underact.envs.vector:CartPoleVectorEnv"),
}


def _register() -> None:
    for env_id, (system, task) in ENV_IDS.items():
        if env_id in gymnasium.registry:
            continue
        single, vector = _ENTRY_POINTS[system]
        gymnasium.register(
            id=env_id,
            entry_point=single,
            vector_entry_point=vector,
            max_episode_steps=MAX_EPISODE_STEPS,
            reward_threshold=REWARD_THRESHOLDS[env_id],
            kwargs={"task": task},
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
    "UnderactVectorEnv",
]
