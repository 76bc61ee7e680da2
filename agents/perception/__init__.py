"""Perception in front of the policies: a Reformer for long observation histories, SupCon for frames."""

from underact.agents.perception.reformer import ReformerEncoder
from underact.agents.perception.supcon import SupConEncoder, supcon_loss

__all__ = ["ReformerEncoder", "SupConEncoder", "supcon_loss"]
