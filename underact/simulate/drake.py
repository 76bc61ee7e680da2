"""Drake: the controller callable as a `LeafSystem`, a `Simulator` with an error-controlled RK3 integrator.

The plant's `MultibodyPlant` is cloned into a fresh diagram (a system lives in one diagram only), so a `Plant`
can be simulated any number of times. State and actuation are logged by `VectorLogSink`s at a fixed period.

Divergence (see `underact.simulate.divergence`): a monitor checks the state after every step, and bounds the
integrator's work to `MAX_STEP_RATE` steps per simulated second (plus `STEP_BURST`), since near a blow-up the
error control shrinks its step without end; Drake's own failures (RuntimeError, and the SystemExit its failed
asserts raise) are caught here. Each becomes a `DivergenceError`.
"""

from __future__ import annotations

import numpy as np

from underact.engines.drake import (
    BasicVector,
    Context,
    DiagramBuilder,
    LeafSystem,
    LogVectorOutput,
    ResetIntegratorFromFlags,
    Simulator,
)
from underact.errors import SingularMassMatrixError, UnderactError, one_line
from underact.plants.base import Plant
from underact.simulate.divergence import OUT_OF_BOUNDS, bounded, divergence
from underact.simulate.rk4 import rk4_step
from underact.simulate.trajectory import Trajectory

#: The integrator may take at most MAX_STEP_RATE · t + STEP_BURST steps by simulated time t. The built-ins' runs
#: take under 10⁴ steps per second (the acrobot's LQR, saturating, is the busiest); a state spinning at 10⁵ rad/s
#: needs far more and would run for hours.
MAX_STEP_RATE, STEP_BURST = 1e5, 1e4


class ControllerSystem(LeafSystem):
    """Input `state` (q, v), output `actuation` u = controller(t, q, v); direct feedthrough, no state."""

    def __init__(self, controller, nq: int, nv: int, nu: int):
        super().__init__()
        self._controller = controller
        self._nq = nq
        self.DeclareVectorInputPort("state", nq + nv)
        self.DeclareVectorOutputPort("actuation", nu, self._calc)

    def _calc(self, context: Context, output: BasicVector) -> None:
        x = self.get_input_port(0).Eval(context)
        if not bounded(x):  # an integrator stage left the finite numbers: never hand that to the controller
            raise _Diverged(OUT_OF_BOUNDS)
        u = self._controller(context.get_time(), x[: self._nq], x[self._nq :])
        output.SetFromVector(np.asarray(u, dtype=np.float64).reshape(-1))


def simulate_drake(
    plant: Plant, controller, q0, v0, duration: float, record_dt: float = 0.01, accuracy: float = 1e-6
) -> Trajectory:
    """Integrates the closed loop with RK3 at `accuracy` (relative, Drake's error control), logging every record_dt."""
    builder = DiagramBuilder()
    mbp = builder.AddSystem(plant.plant.Clone())
    ctrl = builder.AddSystem(ControllerSystem(controller, plant.nq, plant.nv, plant.nu))
    builder.Connect(mbp.get_state_output_port(), ctrl.get_input_port(0))
    builder.Connect(ctrl.get_output_port(0), mbp.get_actuation_input_port())
    state_log = LogVectorOutput(mbp.get_state_output_port(), builder, record_dt)
    input_log = LogVectorOutput(ctrl.get_output_port(0), builder, record_dt)
    diagram = builder.Build()
    simulator = Simulator(diagram)
    context = simulator.get_mutable_context()
    plant_context = mbp.GetMyMutableContextFromRoot(context)
    q0, v0 = np.asarray(q0, dtype=np.float64), np.asarray(v0, dtype=np.float64)
    if not bounded(q0, v0):  # SetPositions would assert (SystemExit) on a non-finite start
        raise divergence("drake", plant.name, 0.0, 0, q0, v0, OUT_OF_BOUNDS)
    mbp.SetPositions(plant_context, q0)
    mbp.SetVelocities(plant_context, v0)
    integrator = ResetIntegratorFromFlags(simulator, "runge_kutta3", record_dt)
    integrator.set_target_accuracy(accuracy)
    last = [0.0, np.concatenate([q0, v0])]  # time and state after the last good step

    def monitor(root: Context) -> None:
        t = root.get_time()
        x = mbp.GetMyContextFromRoot(root).get_continuous_state_vector().CopyToVector()
        if not bounded(x):
            raise _Diverged(OUT_OF_BOUNDS)
        if integrator.get_num_steps_taken() > MAX_STEP_RATE * t + STEP_BURST:
            raise _Diverged(
                f"Drake's integrator needed over {MAX_STEP_RATE:g} steps per simulated second "
                "(too fast or too stiff to resolve)",
            )
        last[:] = t, x

    simulator.set_monitor(monitor)
    try:
        simulator.Initialize()
        simulator.AdvanceTo(duration)
    except _Diverged as exc:
        raise _error(plant, integrator, last, exc.why) from None
    except (RuntimeError, SystemExit) as exc:  # Drake gave up; its failed asserts raise SystemExit
        raise _error(plant, integrator, last, f"Drake: {one_line(exc)}") from None
    states = state_log.FindLog(context)
    inputs = input_log.FindLog(context)
    x = states.data().T
    return Trajectory(
        states.sample_times().copy(), x[:, : plant.nq].copy(), x[:, plant.nq :].copy(), inputs.data().T.copy()
    )


class _Diverged(Exception):
    """Raised inside Drake's callbacks; `simulate_drake` turns it into a `DivergenceError` with the last good state."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


def _error(plant: Plant, integrator, last: list, why: str):
    t, x = last
    return divergence("drake", plant.name, t, integrator.get_num_steps_taken(), x[: plant.nq], x[plant.nq :], why)


class DrakeStepper:
    """One environment step of a Drake plant: `substeps` fixed RK4 steps (`rk4_step`) on the plant's terms
    (`CalcMassMatrix`, `CalcBiasTerm`, `CalcGravityGeneralizedForces`, joint damping), the force held."""

    def __init__(self, plant: Plant, dt: float, substeps: int):
        self.plant, self.h, self.substeps = plant, dt / substeps, substeps

    def step(self, x: np.ndarray, force: float) -> tuple[np.ndarray, str | None]:
        """The state (q then v) after one step from x, and why it diverged (None if it did not)."""
        if not bounded(x):  # Drake's terms would refuse it with a less telling message
            return x, OUT_OF_BOUNDS
        nq, u = self.plant.nq, [force]
        q, v = x[:nq], x[nq:]
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                for _ in range(self.substeps):
                    q, v = rk4_step(lambda qs, vs: self.plant.vdot(qs, vs, u), q, v, self.h)
        except SingularMassMatrixError:
            raise
        except (UnderactError, SystemExit) as exc:  # a stage left the finite numbers; Drake's asserts: SystemExit
            return np.full(len(x), np.nan), f"an RK4 stage failed: {one_line(exc)}"
        return np.concatenate([q, v]), None
