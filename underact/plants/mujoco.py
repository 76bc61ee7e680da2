"""MuJoCo backend: manipulator terms from an `MjModel`.

M from `mj_fullM`; Cv − τg = `qfrc_bias` (RNE with the current velocities), τg = −`qfrc_bias` at zero velocity;
B = transpose of the dense actuator moment matrix (gears, tendons, sites and slider-cranks included); joint
damping (`dof_damping`) and armature stay out of Cv: damping is `damping(v)`, armature is part of M, as in
MuJoCo. Contacts are disabled while computing terms. mujoco is imported here only.
"""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np

from underact.errors import UnderactError
from underact.plants.base import Plant
from underact.terms import ManipulatorTerms

_FREE, _BALL = int(mujoco.mjtJoint.mjJNT_FREE), int(mujoco.mjtJoint.mjJNT_BALL)


class MujocoPlant(Plant):
    """Manipulator terms from a MuJoCo model."""

    backend = "mujoco"

    def __init__(self, model: mujoco.MjModel, name: str):
        self.model = model
        self.model.opt.disableflags |= int(mujoco.mjtDisableBit.mjDSBL_CONTACT)
        self.model.opt.enableflags |= int(mujoco.mjtEnableBit.mjENBL_ENERGY)
        self.data = mujoco.MjData(model)
        self.name = name
        self.nq, self.nv, self.nu = model.nq, model.nv, model.nu
        self.velocity_names = _velocity_names(model)
        self.actuator_names = [
            mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_ACTUATOR, i) or f"actuator{i}" for i in range(model.nu)
        ]
        limited = model.actuator_ctrllimited.astype(bool)
        self.u_limit = np.where(limited, np.abs(model.actuator_ctrlrange).max(axis=1), np.inf)
        self.b = model.dof_damping.copy()
        self.angle_mask = np.zeros(model.nq, dtype=bool)
        self.angle_mask[model.jnt_qposadr[model.jnt_type == int(mujoco.mjtJoint.mjJNT_HINGE)]] = True
        self.q_rest = model.qpos0.copy()
        self.upright = self.q_rest.copy()
        self._pe0 = 0.0
        self._pe0 = float(self._potential(self.q_rest[None])[0])

    @classmethod
    def from_xml_string(cls, text: str, name: str, assets: dict | None = None) -> MujocoPlant:
        try:
            model = mujoco.MjModel.from_xml_string(text, assets or {})
        except ValueError as exc:
            raise UnderactError(f"{name}: MuJoCo could not load the model: {_one_line(exc)}") from None
        return cls(model, name)

    @classmethod
    def from_file(cls, path: str | Path, name: str | None = None) -> MujocoPlant:
        path = Path(path)
        try:
            model = mujoco.MjModel.from_xml_path(str(path))
        except ValueError as exc:
            raise UnderactError(f"{path}: MuJoCo could not load the model: {_one_line(exc)}") from None
        return cls(model, name or path.stem)

    @classmethod
    def from_spec(cls, spec: mujoco.MjSpec, name: str) -> MujocoPlant:
        try:
            model = spec.compile()
        except ValueError as exc:
            raise UnderactError(f"{name}: MuJoCo could not compile the model: {_one_line(exc)}") from None
        return cls(model, name)

    def _moment(self) -> np.ndarray:
        """Dense actuator moment matrix (nu, nv) for the current state."""
        m, d = self.model, self.data
        dense = np.zeros((m.nu, m.nv))
        if m.nu:
            mujoco.mju_sparse2dense(dense, d.actuator_moment, d.moment_rownnz, d.moment_rowadr, d.moment_colind)
        return dense

    def _terms(self, q, v):
        m, d = self.model, self.data
        n = len(q)
        M = np.empty((n, m.nv, m.nv))
        Cv = np.empty((n, m.nv))
        tau_g = np.empty((n, m.nv))
        B = np.empty((n, m.nv, m.nu))
        gravity = np.empty(m.nv)
        for i in range(n):
            d.qpos[:] = q[i]
            d.qvel[:] = v[i]
            mujoco.mj_forward(m, d)
            mujoco.mj_fullM(m, d, M[i])
            B[i] = self._moment().T
            bias = d.qfrc_bias.copy()  # C v − τg
            d.qvel[:] = 0.0
            mujoco.mj_comVel(m, d)  # RNE reads the body velocities, not qvel
            mujoco.mj_rne(m, d, 0, gravity)  # −τg
            tau_g[i] = -gravity
            Cv[i] = bias - gravity
        return ManipulatorTerms(M, Cv, tau_g, B)

    def _potential(self, q):
        m, d = self.model, self.data
        out = np.empty(len(q))
        for i in range(len(q)):
            d.qpos[:] = q[i]
            mujoco.mj_kinematics(m, d)
            mujoco.mj_comPos(m, d)
            mujoco.mj_energyPos(m, d)
            out[i] = d.energy[0]
        return out - self._pe0

    def qdot(self, q, v):
        if self.nq == self.nv:
            return np.asarray(v, dtype=np.float64)
        raise NotImplementedError("use mujoco.mj_integratePos for models with free or ball joints")

    def random_q(self, rng, n):
        m = self.model
        lo = np.full(m.nq, -np.pi)
        hi = np.full(m.nq, np.pi)
        q = rng.uniform(lo, hi, size=(n, m.nq))
        for j in range(m.njnt):
            adr, kind = m.jnt_qposadr[j], int(m.jnt_type[j])
            if kind in (_FREE, _BALL):
                s = adr + (3 if kind == _FREE else 0)
                if kind == _FREE:
                    q[:, adr : adr + 3] = m.qpos0[adr : adr + 3]
                quat = rng.normal(size=(n, 4))
                q[:, s : s + 4] = quat / np.linalg.norm(quat, axis=1, keepdims=True)
            elif m.jnt_limited[j]:
                r = m.jnt_range[j]
                q[:, adr] = rng.uniform(max(r[0], -np.pi), min(r[1], np.pi), size=n)
        return q


def _velocity_names(m: mujoco.MjModel) -> list[str]:
    names = []
    for j in range(m.njnt):
        jname = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_JOINT, j) or f"joint{j}"
        kind = int(m.jnt_type[j])
        suffixes = {_FREE: ["wx", "wy", "wz", "vx", "vy", "vz"], _BALL: ["wx", "wy", "wz"]}.get(kind)
        names += [f"{jname}_{s}" for s in suffixes] if suffixes else [jname]
    return names


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text.removeprefix("Error: ")
