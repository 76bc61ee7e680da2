"""Controllers built on the plant's manipulator terms; each works on every backend."""

from underact.control.pinv import PseudoInverseController

__all__ = ["PseudoInverseController"]
from underact.control.lqr import DiscreteLQRController, LQRController, angle_mask, saturate, wrap_angles  # noqa: E402
from underact.control.swingup import AcrobotSwingUp, CartPoleSwingUp, collocated_pfl  # noqa: E402
from underact.control.switching import SwingUpAndBalance, swing_up_and_balance  # noqa: E402
from underact.control.tracking import MinimumJerk, PseudoInverseTracking  # noqa: E402

__all__ += [
    "AcrobotSwingUp",
    "CartPoleSwingUp",
    "DiscreteLQRController",
    "LQRController",
    "MinimumJerk",
    "PseudoInverseTracking",
    "SwingUpAndBalance",
    "angle_mask",
    "collocated_pfl",
    "saturate",
    "swing_up_and_balance",
    "wrap_angles",
]
