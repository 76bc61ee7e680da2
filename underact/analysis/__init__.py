"""Actuation analysis: rank of f2 = M⁻¹B, unactuated directions, linearisation and controllability."""

from underact.analysis.actuation import ActuationReport, analyze, check_mat_path, matrix_ranks, unactuated_basis
from underact.analysis.linearize import (
    MAX_COORDINATE,
    check_equilibrium,
    check_mass_matrix,
    controllability_rank,
    equilibrium_input,
    linearize,
)

__all__ = [
    "MAX_COORDINATE",
    "ActuationReport",
    "analyze",
    "check_equilibrium",
    "check_mass_matrix",
    "check_mat_path",
    "controllability_rank",
    "equilibrium_input",
    "linearize",
    "matrix_ranks",
    "unactuated_basis",
]
