"""Actuation analysis: rank of f2 = M⁻¹B, unactuated directions, linearisation and controllability."""

from underact.analysis.actuation import ActuationReport, analyze, matrix_ranks, unactuated_basis
from underact.analysis.linearize import controllability_rank, equilibrium_input, linearize

__all__ = [
    "ActuationReport",
    "analyze",
    "controllability_rank",
    "equilibrium_input",
    "linearize",
    "matrix_ranks",
    "unactuated_basis",
]
