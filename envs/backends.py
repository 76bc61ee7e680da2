"""Steppers behind the single environments: one environment step of length dt on the chosen engine.

- analytic: the system's closed-form dynamics with fixed-step RK4 (`System.step`), batched, fastest.
- drake: the same RK4 scheme on the Drake `MultibodyPlant`'s terms (`CalcMassMatrix`, `CalcBiasTerm`,
  `CalcGravityGeneralizedForces`, joint damping), through `underact.load(..., backend="drake")`.
- mujoco: `mujoco.mj_step` with the RK4 integrator at timestep dt / substeps, on MJCF generated from the same
  parameters (`underact.load(..., backend="mujoco")`).

All three integrate the same ODE with the same Butcher tableau and step size, so they agree to rounding. A step
returns the next state and, when the engine itself saw the state diverge (MuJoCo's warning counters, Drake's
failures), why; the environment applies the shared bounds of `underact.simulate.divergence` to every backend.
"""

from __future__ import annotations

import numpy as np

from underact import load
from underact.envs.system import System
from underact.errors import SingularMassMatrixError, UnderactError
from underact.simulate.divergence import OUT_OF_BOUNDS, bounded

BACKENDS = ("analytic", "drake", "mujoco")


class Stepper:
    """One state x (4,) and force → the state after one environment step (4,), and why it diverged (or None)."""

    def __init__(self, system: System):
        self.system = system

    def step(self, x: np.ndarray, force: float) -> tuple[np.ndarray, str | None]:
        with np.errstate(over="ignore", invalid="ignore"):  # a blow-up is reported by the environment
            return np.array(self.system.rk4(tuple(float(c) for c in x), force)), None


class DrakeStepper(Stepper):
    def __init__(self, system: System):
        super().__init__(system)
        self.plant = load(system.name, backend="drake")
        self.plant.u_limit = np.array([system.u_limit])

    def _xdot(self, x: np.ndarray, force: float) -> np.ndarray:
        return np.concatenate([x[2:], self.plant.vdot(x[:2], x[2:], [force])])

    def step(self, x: np.ndarray, force: float) -> tuple[np.ndarray, str | None]:
        if not bounded(x):  # Drake's terms would refuse it with a less telling message
            return x, OUT_OF_BOUNDS
        h = self.system.dt / self.system.substeps
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                for _ in range(self.system.substeps):
                    k1 = self._xdot(x, force)
                    k2 = self._xdot(x + 0.5 * h * k1, force)
                    k3 = self._xdot(x + 0.5 * h * k2, force)
                    k4 = self._xdot(x + h * k3, force)
                    x = x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        except SingularMassMatrixError:
            raise
        except (UnderactError, SystemExit) as exc:  # a stage left the finite numbers; Drake's asserts: SystemExit
            text = str(exc).strip()
            return np.full(4, np.nan), f"an RK4 stage failed: {text.splitlines()[0] if text else type(exc).__name__}"
        return x, None


class MujocoStepper(Stepper):
    def __init__(self, system: System, params: dict[str, float]):
        import mujoco

        from underact.simulate import mujoco as mj

        super().__init__(system)
        self._mj = mj
        self.plant = load(system.name, backend="mujoco", **params)
        self.plant.model.opt.timestep = system.dt / system.substeps
        self.plant.model.opt.integrator = int(mujoco.mjtIntegrator.mjINT_RK4)
        mj.prepare(self.plant.model, self.plant.data)

    def step(self, x: np.ndarray, force: float) -> tuple[np.ndarray, str | None]:
        m, d = self.plant.model, self.plant.data
        d.qpos[:] = x[:2]
        d.qvel[:] = x[2:]
        d.ctrl[:] = force
        why = self._mj.step(m, d, self.system.substeps)
        return np.concatenate([d.qpos, d.qvel]), why


def make_stepper(system: System, backend: str, params: dict[str, float]) -> Stepper:
    """The stepper for `backend`; Drake's built-ins are the shipped example files, so only u_limit may change."""
    if backend == "analytic":
        return Stepper(system)
    if backend == "mujoco":
        try:
            return MujocoStepper(system, params)
        except UnderactError as exc:
            raise ValueError(str(exc)) from None
    if backend == "drake":
        changed = sorted(set(params) - {"u_limit"})
        if changed:
            raise ValueError(
                f"backend='drake' simulates Drake's shipped {system.name} model, whose parameters are fixed; "
                f"{changed} can be changed on backend='analytic' or 'mujoco'"
            )
        return DrakeStepper(system)
    raise ValueError(f"backend must be one of {BACKENDS}; got {backend!r}")
