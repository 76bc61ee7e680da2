"""Drake: the controller callable as a `LeafSystem`, a `Simulator` with an error-controlled RK3 integrator.

The plant's `MultibodyPlant` is cloned into a fresh diagram (a system lives in one diagram only), so a `Plant`
can be simulated any number of times. State and actuation are logged by `VectorLogSink`s at a fixed period.
"""

from __future__ import annotations

import numpy as np
from pydrake.systems.analysis import ResetIntegratorFromFlags, Simulator
from pydrake.systems.framework import BasicVector, Context, DiagramBuilder, LeafSystem
from pydrake.systems.primitives import LogVectorOutput

from underact.plants.base import Plant
from underact.simulate.trajectory import Trajectory


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
    mbp.SetPositions(plant_context, np.asarray(q0, dtype=np.float64))
    mbp.SetVelocities(plant_context, np.asarray(v0, dtype=np.float64))
    integrator = ResetIntegratorFromFlags(simulator, "runge_kutta3", record_dt)
    integrator.set_target_accuracy(accuracy)
    simulator.Initialize()
    simulator.AdvanceTo(duration)
    states = state_log.FindLog(context)
    inputs = input_log.FindLog(context)
    x = states.data().T
    return Trajectory(
        states.sample_times().copy(), x[:, : plant.nq].copy(), x[:, plant.nq :].copy(), inputs.data().T.copy()
    )
