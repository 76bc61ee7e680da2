"""Controllers built on the plant's manipulator terms; each works on every backend."""

from underact.control.pinv import PseudoInverseController

__all__ = ["PseudoInverseController"]
