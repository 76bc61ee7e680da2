"""Gymnasium's Ant-v5 with a damaged leg: `underact/AntDamaged-v0` (single) and its threaded vector environment.

    env = gymnasium.make("underact/AntDamaged-v0", damage="front_right")
    vec = gymnasium.make_vec("underact/AntDamaged-v0", 64, "vector_entry_point", damage="front_left")

The body is Gymnasium's shipped ant.xml, edited through `mujoco.MjSpec` (`ant_model`); the physics, reward,
termination and reset noise are Ant-v5's unless keyword arguments choose Najarro & Risi's protocol
(`PAPER_PROTOCOL`: distance reward, clipped observation, burn-in, early stop). `AntVectorEnv` steps N `MjData`
of one model on a thread pool (`mujoco.mj_step` releases the GIL), with the policy between environment steps, and
gives the same numbers as N single environments reset with seeds seed, seed + 1, …
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import gymnasium
import numpy as np
from gymnasium.envs.mujoco.ant_v5 import AntEnv
from gymnasium.envs.mujoco.mujoco_env import expand_model_path
from gymnasium.spaces import Box
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from underact.engines.mujoco import compile_spec, mujoco, spec_file
from underact.envs.vector import check_time_limit, next_step_flags

ENV_ID = "underact/AntDamaged-v0"
MAX_EPISODE_STEPS = 1000
ANT_XML = "ant.xml"
#: Legs by where they stand relative to the walking direction +x (Ant-v5 rewards x velocity), +y to the left:
#: (hip joint, ankle joint, lower-segment geom). ant.xml's own body names disagree for the right side: its
#: "right_back_leg" (aux_4) stands at (+0.2, −0.2), the front right; its "front_right_leg" (aux_2) stands at
#: (−0.2, +0.2), the back left. The front left is ant.xml's "front_left_leg" (aux_1) at (+0.2, +0.2).
LEGS: dict[str, tuple[str, str, str]] = {
    "front_left": ("hip_1", "ankle_1", "left_ankle_geom"),
    "front_right": ("hip_4", "ankle_4", "fourth_ankle_geom"),
}
DAMAGES = (None, *LEGS)
# Ant-v5's defaults, used by both environments
FRAME_SKIP = 5
CTRL_COST_WEIGHT = 0.5
CONTACT_COST_WEIGHT = 5e-4
CONTACT_FORCE_RANGE = (-1.0, 1.0)
HEALTHY_REWARD = 1.0
HEALTHY_Z_RANGE = (0.2, 1.0)
RESET_NOISE_SCALE = 0.1
REWARDS = ("ant-v5", "distance")
#: Najarro & Risi's quadruped protocol (their PyBullet AntBulletEnv-v0 code, 0.0165 s steps, 1000 per episode)
#: on Ant-v5's 0.05 s steps, each duration scaled to time: reward = metres walked along +x per step (PyBullet's
#: "progress" term only: no alive bonus, no control or contact cost); observation clipped to ±5; 40 zero-action
#: burn-in steps (0.66 s) → 13; from step 200 (3.3 s) → 66 on, the episode ends when the torso falls below
#: z = 0.26 m or after 30 steps (0.5 s) → 10 in a row of negative progress. Ant-v5's body is PyBullet's ant
#: (same torso sphere of radius 0.25 m at 0.75 m, same 0.2 + 0.2 + 0.4 leg vectors), so 0.26 m means the same
#: thing: the torso nearly on the floor. The damage cuts one lower leg to a quarter (fromto 0.4 → 0.1).
PAPER_PROTOCOL: dict[str, Any] = {
    "reward": "distance",
    "obs_clip": 5.0,
    "burn_in": 13,
    "early_stop": (66, 10, 0.26),
    "terminate_when_unhealthy": False,
    "max_episode_steps": 330,
}
PAPER_STUMP = 0.25


def check_damage(damage: str | None, stump: float, motor_gain: float) -> None:
    """ValueError in one line for a leg name, stump fraction or motor gain the model cannot be built with."""
    if damage not in DAMAGES:
        raise ValueError(f"damage must be None, 'front_left' or 'front_right'; got {damage!r}")
    for name, value, ok, rule in (
        ("stump", stump, lambda v: 0 < v <= 1, "in (0, 1]"),
        ("motor_gain", motor_gain, lambda v: v >= 0, ">= 0"),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or not ok(value):
            raise ValueError(f"{name} must be a finite number {rule}; got {value!r}")
    if damage is None and (stump != 1.0 or motor_gain != 1.0):
        raise ValueError("stump and motor_gain change the damaged leg; give damage='front_left' or 'front_right'")


def check_protocol(reward: str, obs_clip: float | None, burn_in: int, early_stop) -> None:
    """ValueError in one line for a reward name, observation clip, burn-in or early-stop rule that is not one."""
    if reward not in REWARDS:
        raise ValueError(f"reward must be 'ant-v5' or 'distance'; got {reward!r}")
    if obs_clip is not None and (
        isinstance(obs_clip, bool) or not isinstance(obs_clip, (int, float)) or not 0 < obs_clip < np.inf
    ):
        raise ValueError(f"obs_clip must be None or a finite number > 0; got {obs_clip!r}")
    if isinstance(burn_in, bool) or not isinstance(burn_in, (int, np.integer)) or not 0 <= burn_in <= 10**6:
        raise ValueError(f"burn_in must be a whole number of steps in [0, 1e6]; got {burn_in!r}")
    if early_stop is not None:
        ok = isinstance(early_stop, (tuple, list)) and len(early_stop) == 3
        after, patience, fall_z = early_stop if ok else (None, None, None)
        whole = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (after, patience))
        finite_z = isinstance(fall_z, (int, float)) and not isinstance(fall_z, bool) and np.isfinite(fall_z)
        if not ok or not whole or after < 0 or patience < 1 or not finite_z:
            raise ValueError(
                f"early_stop must be None or (after_steps >= 0, negative_steps >= 1, fall_z); got {early_stop!r}"
            )


def stop_flags(steps: np.ndarray, neg: np.ndarray, reward: np.ndarray, z: np.ndarray, early_stop) -> tuple:
    """The paper's early-stop rule for N copies after a step: (ends now [N] bool, new negative-step counts [N]).
    `steps` counts this episode's steps before this one; once past `after` steps, a step of negative reward adds
    one to the count and any other sets it to 0, and the episode ends when the torso is below `fall_z` or the count
    reaches `negative_steps`."""
    after, patience, fall_z = early_stop
    counted = steps + 1 > after
    neg = np.where(counted, np.where(reward < 0, neg + 1, 0), neg)
    return counted & ((z < fall_z) | (neg >= patience)), neg


def ant_model(damage: str | None = None, stump: float = 0.5, motor_gain: float = 1.0) -> mujoco.MjModel:
    """Ant-v5's model; with `damage`, that leg's lower segment (the capsule below the ankle joint) keeps the
    fraction `stump` of its 0.566 m length and the leg's two motors their gear × `motor_gain`. The joints,
    `nq`, `nv` and `nu` are the intact ant's. ValueError for bad arguments."""
    if damage is None:
        stump = 1.0
    check_damage(damage, stump, motor_gain)
    spec = spec_file(expand_model_path(ANT_XML), ANT_XML)
    if damage is not None:
        hip, ankle, geom_name = LEGS[damage]
        geom = spec.geom(geom_name)
        start, end = np.array(geom.fromto[:3]), np.array(geom.fromto[3:])
        geom.fromto = [*start, *(start + stump * (end - start))]
        for actuator in spec.actuators:
            if actuator.target in (hip, ankle):
                actuator.gear[0] *= motor_gain
    return compile_spec(spec, ANT_XML)


def _observe(qpos: np.ndarray, qvel: np.ndarray, cfrc_ext: np.ndarray | None) -> np.ndarray:
    """Ant-v5's observation (x and y excluded), batched over the leading axis."""
    parts = [qpos[..., 2:], qvel]
    if cfrc_ext is not None:
        parts.append(np.clip(cfrc_ext[..., 1:, :], *CONTACT_FORCE_RANGE).reshape(*cfrc_ext.shape[:-2], -1))
    return np.concatenate(parts, axis=-1)


class AntDamagedEnv(AntEnv):
    """Gymnasium's Ant-v5 quadruped with an optional damaged front leg (shortened lower segment, weak motors).

    ## Description
    Gymnasium's Ant-v5 (a torso with four two-segment legs, eight hinge motors; MuJoCo) whose front-left or
    front-right leg may be damaged, the quadruped of Najarro & Risi (2020): train on the intact ant and one
    damage, test on the other. "Front" is the walking direction +x (the reward is x velocity), +y is left:
    front left is ant.xml's `front_left_leg` (aux_1, hip_1/ankle_1) at (+0.2, +0.2); front right is ant.xml's
    `right_back_leg` (aux_4, hip_4/ankle_4) at (+0.2, −0.2) (ant.xml's `front_right_leg` stands at the back
    left). The model is built by `ant_model` from the shipped ant.xml with `mujoco.MjSpec` edits.

    ## Action Space
    `Box(-1, 1, (8,), float32)`: torques of hip_4, ankle_4, hip_1, ankle_1, hip_2, ankle_2, hip_3, ankle_3 as
    fractions of the gear (150 N·m; × `motor_gain` on the damaged leg). MuJoCo clamps controls to [-1, 1].

    ## Observation Space
    `Box(-inf, inf, (27,), float64)`: torso z and orientation quaternion, the 8 joint angles (13 positions,
    x and y left out), then the 14 velocities. With `include_cfrc_ext_in_observation=True`, also the 78 clipped
    external contact forces (105 entries, Ant-v5's default).

    ## Rewards
    Ant-v5's: x velocity of the torso + 1 while healthy − 0.5 ‖action‖² − 5·10⁻⁴ ‖clip(cfrc_ext, −1, 1)‖².
    With `reward="distance"`: the torso's +x displacement in the step, in metres (the return is the distance walked).

    ## Starting State
    Ant-v5's: the standing pose plus uniform noise in ±0.1 on every position and 0.1 × standard normal noise on
    every velocity.

    ## Episode End
    Terminated when the torso height leaves [0.2, 1.0] m or the state is not finite; truncated after 1000 steps
    (`max_episode_steps`). With `early_stop=(after, n, z)`: also from step after + 1 on, when the torso is below z
    or after n steps in a row of negative reward.

    ## Arguments
    - `damage`: None (intact), "front_left" or "front_right".
    - `stump` (default 0.5): fraction of the damaged leg's lower segment that remains (1 keeps its length).
    - `motor_gain` (default 1.0): gear factor of the damaged leg's two motors (0: dead motors).
    - `include_cfrc_ext_in_observation` (default False, unlike Ant-v5): append the contact forces.
    - `reward` (default "ant-v5"): "distance" makes the reward the torso's +x displacement in the step (metres,
      so the return is the distance walked), with no healthy reward and no control or contact cost.
    - `obs_clip` (default None): clip every observation entry to ±obs_clip.
    - `burn_in` (default 0): zero-action steps after every reset, before the first observation (no agent sees
      them, so a plastic network does not learn during them).
    - `early_stop` (default None): (after_steps, negative_steps, fall_z); from step after_steps + 1 on, the
      episode terminates when the torso is below fall_z or after negative_steps steps in a row of negative reward.
      `PAPER_PROTOCOL` holds Najarro & Risi's settings scaled to Ant-v5's step (with `stump=PAPER_STUMP`).
    - any other Ant-v5 argument (`render_mode`, `width`, `height`, ...) except `xml_file`.
    Bad values of the first three raise a one-line ValueError.

    The vector version (`gymnasium.make_vec(..., vectorization_mode="vector_entry_point")`) is `AntVectorEnv`.
    """

    def __init__(
        self,
        damage: str | None = None,
        stump: float = 0.5,
        motor_gain: float = 1.0,
        include_cfrc_ext_in_observation: bool = False,
        reward: str = "ant-v5",
        obs_clip: float | None = None,
        burn_in: int = 0,
        early_stop: tuple[int, int, float] | None = None,
        **kwargs: Any,
    ):
        if "xml_file" in kwargs:
            raise ValueError("xml_file is fixed (Gymnasium's ant.xml); use damage, stump and motor_gain")
        if damage is None:
            stump = 1.0
        check_damage(damage, stump, motor_gain)
        check_protocol(reward, obs_clip, burn_in, early_stop)
        self.damage, self.stump, self.motor_gain = damage, stump, motor_gain
        self.reward_mode, self.obs_clip, self.burn_in = reward, obs_clip, int(burn_in)
        self.early_stop = None if early_stop is None else tuple(early_stop)
        self._t, self._neg = 0, np.zeros(1, dtype=np.int64)
        super().__init__(include_cfrc_ext_in_observation=include_cfrc_ext_in_observation, **kwargs)

    def _get_obs(self) -> np.ndarray:
        obs = super()._get_obs()
        return obs if self.obs_clip is None else np.clip(obs, -self.obs_clip, self.obs_clip)

    def reset_model(self) -> np.ndarray:
        obs = super().reset_model()
        for _ in range(self.burn_in):
            self.do_simulation(np.zeros(self.model.nu), self.frame_skip)
        self._t, self._neg = 0, np.zeros(1, dtype=np.int64)
        return self._get_obs() if self.burn_in else obs

    def step(self, action):
        if self.reward_mode == "ant-v5" and self.early_stop is None:
            return super().step(action)
        x_before = float(self.data.body(self._main_body).xpos[0])
        self.do_simulation(action, self.frame_skip)
        x_after = float(self.data.body(self._main_body).xpos[0])
        obs = self._get_obs()
        if self.reward_mode == "distance":
            reward, info = x_after - x_before, {"distance": x_after - x_before}
        else:
            reward, info = self._get_rew((x_after - x_before) / self.dt, action)
        terminated = (not self.is_healthy) and self._terminate_when_unhealthy
        if self.early_stop is not None:
            z = np.array([self.data.qpos[2]])
            stop, self._neg = stop_flags(np.array([self._t]), self._neg, np.array([reward]), z, self.early_stop)
            terminated = terminated or bool(stop[0]) or not bool(np.isfinite(self.state_vector()).all())
        self._t += 1
        info["x_position"] = x_after
        if self.render_mode == "human":
            self.render()
        return obs, reward, terminated, False, info

    def _initialize_simulation(self) -> tuple[mujoco.MjModel, mujoco.MjData]:
        model = ant_model(self.damage, self.stump, self.motor_gain)
        model.vis.global_.offwidth = max(model.vis.global_.offwidth, self.width)
        model.vis.global_.offheight = max(model.vis.global_.offheight, self.height)
        return model, mujoco.MjData(model)


class AntVectorEnv(VectorEnv):
    """N damaged (or intact) ants of one body stepped on `threads` threads; see `AntDamagedEnv` for the task.

    Copy i after `reset(seed=s)` behaves exactly as `AntDamagedEnv` after `reset(seed=s + i)` (its own
    generator, used again by its later resets). Autoreset is `AutoresetMode.NEXT_STEP`, as in Gymnasium's
    vector environments. Actions are (N, 8) finite numbers (copies being reset may get anything).
    """

    metadata: dict[str, Any] = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}
    SEEDS_EACH_COPY = True  # population slices (`underact.agents.rollout`) build only their own copies

    def __init__(
        self,
        num_envs: int = 1,
        damage: str | None = None,
        stump: float = 0.5,
        motor_gain: float = 1.0,
        include_cfrc_ext_in_observation: bool = False,
        max_episode_steps: int | None = MAX_EPISODE_STEPS,
        threads: int | None = None,
        reward: str = "ant-v5",
        obs_clip: float | None = None,
        burn_in: int = 0,
        early_stop: tuple[int, int, float] | None = None,
        terminate_when_unhealthy: bool = True,
    ):
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer; got {num_envs!r}")
        check_protocol(reward, obs_clip, burn_in, early_stop)
        self.reward_mode, self.obs_clip, self.burn_in = reward, obs_clip, int(burn_in)
        self.early_stop = None if early_stop is None else tuple(early_stop)
        self.terminate_when_unhealthy = bool(terminate_when_unhealthy)
        self.model = ant_model(damage, stump, motor_gain)
        self.num_envs = int(num_envs)
        self.max_episode_steps = check_time_limit(max_episode_steps)
        self.datas = [mujoco.MjData(self.model) for _ in range(self.num_envs)]
        self.dt = self.model.opt.timestep * FRAME_SKIP
        self.contact_forces = bool(include_cfrc_ext_in_observation)
        self.metadata = {**self.metadata, "render_fps": int(np.round(1.0 / self.dt))}
        m = self.model
        self.init_qpos, self.init_qvel = m.qpos0.copy(), np.zeros(m.nv)
        low, high = m.actuator_ctrlrange.astype(np.float32).T
        self.single_action_space = Box(low, high, dtype=np.float32)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        obs_size = m.nq - 2 + m.nv + (m.nbody - 1) * 6 * self.contact_forces
        self.single_observation_space = Box(-np.inf, np.inf, (obs_size,), np.float64)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        n_threads = max(1, min(threads or os.cpu_count() or 1, self.num_envs))
        bounds = np.linspace(0, self.num_envs, n_threads + 1).round().astype(int)
        self._slices = [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]
        self._pool = ThreadPoolExecutor(n_threads) if n_threads > 1 else None
        self._rngs = [seeding.np_random()[0] for _ in range(self.num_envs)]
        self._steps = np.zeros(self.num_envs, dtype=np.int64)
        self._done = np.zeros(self.num_envs, dtype=bool)
        self._neg = np.zeros(self.num_envs, dtype=np.int64)  # negative-progress steps in a row (`early_stop`)

    def _reset_copy(self, i: int) -> None:
        m, d, rng = self.model, self.datas[i], self._rngs[i]
        mujoco.mj_resetData(m, d)
        d.qpos[:] = self.init_qpos + rng.uniform(-RESET_NOISE_SCALE, RESET_NOISE_SCALE, size=m.nq)
        d.qvel[:] = self.init_qvel + RESET_NOISE_SCALE * rng.standard_normal(m.nv)
        mujoco.mj_forward(m, d)
        for _ in range(self.burn_in):  # as AntDamagedEnv.reset_model: zero actions, Ant-v5's step each
            d.ctrl[:] = 0.0
            mujoco.mj_step(m, d, nstep=FRAME_SKIP)
            mujoco.mj_rnePostConstraint(m, d)
        self._neg[i] = 0

    def _gather(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        qpos = np.stack([d.qpos for d in self.datas])
        qvel = np.stack([d.qvel for d in self.datas])
        cfrc = np.stack([d.cfrc_ext for d in self.datas])
        return qpos, qvel, cfrc

    def _obs(self, qpos: np.ndarray, qvel: np.ndarray, cfrc: np.ndarray) -> np.ndarray:
        obs = _observe(qpos, qvel, cfrc if self.contact_forces else None)
        return obs if self.obs_clip is None else np.clip(obs, -self.obs_clip, self.obs_clip)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Every copy from Ant-v5's start distribution; copy i's generator is seeded with seed + i."""
        super().reset(seed=seed)
        if seed is not None:
            self._rngs = [seeding.np_random(seed + i)[0] for i in range(self.num_envs)]
        for i in range(self.num_envs):
            self._reset_copy(i)
        self._steps[:] = 0
        self._done[:] = False
        qpos, qvel, cfrc = self._gather()
        return self._obs(qpos, qvel, cfrc), {}

    def _simulate(self, bounds: tuple[int, int], ctrl: np.ndarray, skip: np.ndarray) -> None:
        m = self.model
        for i in range(*bounds):
            if skip[i]:  # reset instead
                continue
            d = self.datas[i]
            d.ctrl[:] = ctrl[i]
            mujoco.mj_step(m, d, nstep=FRAME_SKIP)
            mujoco.mj_rnePostConstraint(m, d)

    #: Copies the next steps leave alone, (N,) bool or None: set by a population rollout for the copies whose
    #: episodes it no longer reads (`underact.agents.rollout`), so no physics is spent on them. An idle copy is
    #: neither stepped nor reset; it reports its last observation, reward 0 and no flags, and resumes (resetting
    #: first if its episode had ended) once it is no longer idle.
    idle: np.ndarray | None = None

    def step(self, actions):
        a = np.asarray(actions)
        if a.dtype.kind != "f":
            a = a.astype(np.float64)
        if a.shape != (self.num_envs, self.model.nu):
            raise ValueError(f"actions must have shape ({self.num_envs}, {self.model.nu}); got {a.shape}")
        idle = np.zeros(self.num_envs, dtype=bool) if self.idle is None else np.asarray(self.idle, dtype=bool)
        if idle.shape != (self.num_envs,):
            raise ValueError(f"idle must be None or {self.num_envs} booleans; got shape {idle.shape}")
        done = self._done & ~idle
        bad = ~np.isfinite(a).all(axis=1) & ~done & ~idle
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"actions must be finite; got {a[i]} for env {i}")
        skip = done | idle
        a = np.where(skip[:, None], 0.0, a)
        x_before = np.array([d.xpos[1, 0] for d in self.datas])
        if self._pool is None:
            self._simulate(self._slices[0], a, skip)
        else:
            list(self._pool.map(lambda s: self._simulate(s, a, skip), self._slices))
        x_after = np.array([d.xpos[1, 0] for d in self.datas])
        for i in np.flatnonzero(done):
            self._reset_copy(int(i))
        qpos, qvel, cfrc = self._gather()
        healthy = (
            np.isfinite(qpos).all(axis=1)
            & np.isfinite(qvel).all(axis=1)
            & (qpos[:, 2] >= HEALTHY_Z_RANGE[0])
            & (qpos[:, 2] <= HEALTHY_Z_RANGE[1])
        )
        if self.reward_mode == "distance":
            reward = x_after - x_before
        else:
            contact_cost = CONTACT_COST_WEIGHT * np.square(np.clip(cfrc, *CONTACT_FORCE_RANGE)).sum(axis=(1, 2))
            reward = (x_after - x_before) / self.dt + HEALTHY_REWARD * healthy
            reward -= CTRL_COST_WEIGHT * np.square(a).sum(axis=1) + contact_cost  # in the actions' dtype, as Ant-v5
        terminated = ~healthy if self.terminate_when_unhealthy else np.zeros(self.num_envs, dtype=bool)
        if self.early_stop is not None:
            stop, neg = stop_flags(self._steps, self._neg, reward, qpos[:, 2], self.early_stop)
            finite = np.isfinite(qpos).all(axis=1) & np.isfinite(qvel).all(axis=1)
            terminated |= stop | ~finite
            self._neg = np.where(idle | done, self._neg, neg)  # a copy reset by this step keeps the reset's 0
        steps, truncated, now_done = next_step_flags(self._steps, done, reward, terminated, self.max_episode_steps)
        reward[idle], terminated[idle], truncated[idle] = 0.0, False, False
        self._steps, self._done = np.where(idle, self._steps, steps), np.where(idle, self._done, now_done)
        return self._obs(qpos, qvel, cfrc), reward, terminated, truncated, {}

    def close_extras(self, **kwargs: Any) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


def _register() -> None:
    if ENV_ID in gymnasium.registry:
        return
    gymnasium.register(
        id=ENV_ID,
        entry_point="underact.envs.ant:AntDamagedEnv",
        vector_entry_point="underact.envs.ant:AntVectorEnv",
        max_episode_steps=MAX_EPISODE_STEPS,
    )


_register()
