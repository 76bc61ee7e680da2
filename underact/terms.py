"""The manipulator equation's terms, shared by every plant: M(q) v̇ + C(q, v) v = τg(q) + B(q) u.

Sign convention as in Tedrake, "Underactuated Robotics", ch. 1 (eq. 1.11): `Cv` is on the left, `tau_g` on the
right. Joint damping is *not* part of `Cv`; plants return it separately from `Plant.damping(v)` as a generalized
force on the right-hand side (so for viscous damping b, `damping(v) = -b * v`).

`C`, the Coriolis matrix itself, is computed on first use (it costs more than the product `Cv`): the Christoffel
form for joint coordinates and the spatial-algebra form for free bodies, so that Ṁ − 2C is skew-symmetric on
every backend (`underact.plants.base.Plant.coriolis`, docs/concepts.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from underact.errors import UnderactError


@dataclass(frozen=True)
class ManipulatorTerms:
    """M (..., nv, nv), Cv (..., nv), tau_g (..., nv), B (..., nv, nu); float64, batched over leading axes.

    `C` (..., nv, nv), with C v = Cv, is computed by `coriolis` when first read."""

    M: np.ndarray
    Cv: np.ndarray
    tau_g: np.ndarray
    B: np.ndarray
    coriolis: Callable[[], np.ndarray] | None = field(default=None, repr=False, compare=False)

    @property
    def nv(self) -> int:
        return self.M.shape[-1]

    @property
    def nu(self) -> int:
        return self.B.shape[-1]

    @cached_property
    def C(self) -> np.ndarray:
        """The Coriolis matrix C(q, v) (…, nv, nv): C v = Cv and Ṁ − 2C skew-symmetric."""
        if self.coriolis is None:
            raise UnderactError("these terms were made without their plant; C is plant.coriolis(q, v)")
        return self.coriolis()

    def f1_f2(self, damping: np.ndarray | float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Control-affine form v̇ = f1 + f2 u: f1 = M⁻¹(τg − Cv + damping), f2 = M⁻¹B."""
        rhs = self.tau_g - self.Cv + damping
        f1 = np.linalg.solve(self.M, rhs[..., None])[..., 0]
        f2 = np.linalg.solve(self.M, self.B)
        return f1, f2

    def as_dict(self, with_C: bool = False) -> dict[str, list]:
        """The terms as nested lists (row-major); `with_C` adds the Coriolis matrix."""
        out = {"M": self.M.tolist(), "Cv": self.Cv.tolist(), "tau_g": self.tau_g.tolist(), "B": self.B.tolist()}
        if with_C:
            out["C"] = self.C.tolist()
        return out


def coriolis_from_bias_derivative(
    dCv_dv: np.ndarray, M: np.ndarray, v: np.ndarray, free_velocity_starts: tuple[int, ...] | list[int] = ()
) -> np.ndarray:
    """C (N, nv, nv) from an exact derivative ∂(Cv)/∂v (N, nv, nv) of the bias, M (N, nv, nv) and v (N, nv).

    Joint coordinates: Cv = Σ Γ_ijk v_j v_k with the Christoffel symbols Γ symmetric in j, k, so C = ½ ∂(Cv)/∂v.
    A free body in the project's coordinates (ω then v of its origin, both in the world, at index s of v) is a
    quasi-velocity: the symmetric half is not skew-compatible there. The spatial-algebra C (Pinocchio's:
    C w = Σ_bodies Jᵀ(I J̇ w + ½(V ×* I W − I (V × W) + W ×* I V)), V = J v, W = J w, world-frame spatial vectors)
    equals the Christoffel form on joint coordinates and differs from ½ ∂(Cv)/∂v on a free body by one term,
    −½ M[:, ω] [ω]× on the body's ω columns (the free body's velocities do not commute: J̇(v) w − J̇(w) v − V × W
    = −J (ω_v × ω_w, 0)), which restores Ṁ = C + Cᵀ. tests/test_coriolis_matrix.py checks both against central
    differences of M and against Pinocchio.
    """
    C = 0.5 * dCv_dv
    for s in free_velocity_starts:
        w = v[:, s : s + 3]
        C[:, :, s : s + 3] -= 0.5 * M[:, :, s : s + 3] @ cross_matrix(w)
    return C


def cross_matrix(w: np.ndarray) -> np.ndarray:
    """[w]× (…, 3, 3), the matrix of w × ·, batched over leading axes."""
    zero = np.zeros(w.shape[:-1])
    x, y, z = w[..., 0], w[..., 1], w[..., 2]
    return np.stack(
        [np.stack([zero, -z, y], -1), np.stack([z, zero, -x], -1), np.stack([-y, x, zero], -1)], -2
    )
