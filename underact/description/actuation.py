"""The one actuation model: which actuators a description file has, the joints each drives, and by how much.

Every command and every engine reads the actuators from here (`actuators(description, mode)`), so classify,
analyze, equation, crosscheck and view answer about the same inputs u. The rule:

- `declared`: the actuators the file declares (URDF `<transmission>` and `<ros2_control>`, SDF by Drake's rule,
  MJCF `<actuator>`), possibly none;
- `assumed`: every independent joint coordinate actuated, one actuator each (mimic and equality-coupled joints
  are dependent, not actuated);
- `auto` (the default): the declared actuators when the file declares any, otherwise the assumed ones, with
  one warning.

An actuator's generalized force is `gain · reductions[i]` per unit of u on coordinate `axes[i]` of joint
`joints[i]` (the column of B). Per transmission:

- URDF `SimpleTransmission` on one joint: u is the joint's effort (reduction 1, as Drake and ros_control's
  effort interface read it; the actuator's `<mechanicalReduction>` is the motor's gear behind that interface);
- a `SimpleTransmission` naming several joints (the PR2 gripper pattern): one actuator, one column, each
  joint's own `<mechanicalReduction>` (default 1) as its share;
- `DifferentialTransmission` (ROS1 `transmission_interface`): u = the two actuators' efforts, coupled as
  τ_j1 = jr1 (ar1 u1 + ar2 u2), τ_j2 = jr2 (ar1 u1 − ar2 u2);
- any other transmission type: one actuator per joint it names (a warning names the type);
- MJCF: u is the actuator's `ctrl`; the reductions are MuJoCo's moment arms (gear, tendon, site) at the
  reference configuration and the gain its `gainprm[0]` (a motor's 1; a `<position>`'s kp, so u is the set
  point; the bias −kp·q − kv·q̇ is state feedback inside the actuator, not part of B). An actuator with no
  authority (gain 0, `<flag actuation="disable"/>`, its group disabled) keeps its place with gain 0, warned.
"""

from __future__ import annotations

from dataclasses import dataclass

MODES = ("auto", "declared", "assumed")
"""`--actuation` choices: the rule above."""

LEGACY_MODES = {"file": "auto", "all": "assumed"}
"""Earlier names of the modes, still accepted by `parse_description`."""


@dataclass(frozen=True)
class Actuator:
    """One input u: its name, the joints it drives (the floating base is `BASE`), the coordinate of each joint
    (0 for one-DoF joints), the reduction on each, the gain, where it came from, and its effort limit |u| ≤
    `effort` (None where the file gives none)."""

    name: str
    joints: tuple[str, ...]
    reductions: tuple[float, ...]
    axes: tuple[int, ...] = ()
    gain: float = 1.0
    source: str = "declared"
    effort: float | None = None

    def __post_init__(self) -> None:
        if not self.axes:
            object.__setattr__(self, "axes", (0,) * len(self.joints))

    @property
    def column(self) -> dict[tuple[str, int], float]:
        """{(joint, coordinate): generalized force per unit u}: this actuator's column of B."""
        out: dict[tuple[str, int], float] = {}
        for joint, axis, reduction in zip(self.joints, self.axes, self.reductions, strict=True):
            out[(joint, axis)] = out.get((joint, axis), 0.0) + self.gain * reduction
        return out

    @property
    def simple(self) -> bool:
        """One joint, reduction 1, gain 1: what an engine's own one-joint actuator is (Drake's JointActuator)."""
        return len(self.joints) == 1 and self.reductions == (1.0,) and self.gain == 1.0 and self.axes == (0,)


def check_mode(mode: str) -> str:
    """The mode's current name (legacy names mapped); ValueError for an unknown one."""
    mode = LEGACY_MODES.get(mode, mode)
    if mode not in MODES:
        raise ValueError(f"actuation must be one of {MODES}, got {mode!r}")
    return mode


def assumed(coordinates: list[tuple[str, int]], dofs: dict[str, int]) -> list[Actuator]:
    """One actuator per independent joint coordinate (the floating base's excluded), named after its joint."""
    return [
        Actuator(name if dofs.get(name, 1) == 1 else f"{name}[{k}]", (name,), (1.0,), (k,), source="assumed")
        for name, k in coordinates
    ]


def actuators(description, mode: str = "auto") -> list[Actuator]:
    """The actuators of a parsed `Description` under `mode` ("auto", "declared" or "assumed"): see the module
    docstring. With the mode the description was parsed with, this is `description.actuators`."""
    from underact.description.model import BASE

    mode = check_mode(mode)
    declared = description.declared_actuators
    if mode == "declared" or (mode == "auto" and description.declares_actuators):
        return list(declared)
    dofs = {j.name: j.dof for j in description.joints}
    return assumed([c for c in description.coordinates if c[0] != BASE], dofs)
