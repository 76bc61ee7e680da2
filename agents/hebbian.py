"""Hebbian plasticity rules and plastic networks batched over a population (torch, float32).

A plastic network is fully connected, has no biases and tanh on every layer (Najarro & Risi 2020,
"Meta-Learning through Hebbian Plasticity in Random Networks", NeurIPS, arXiv:2007.02686). Its weights are
re-sampled at the start of every episode and, after each forward pass, every synapse changes by

    Δw_ij = η (A·o_i·o_j + B·o_i + C·o_j + D)

with o_i the presynaptic activation (the layer's input) and o_j the postsynaptic activation (the layer's
tanh output). A weight matrix is stored (out, in) = (post, pre), so entry [j, i] connects input i to output j.

Rules (the evolved coefficients per synapse; coefficients a rule lacks are zero, η is 1 unless evolved):

| rule      | per-synapse coefficients | update                              |
|-----------|--------------------------|-------------------------------------|
| `static`  | W                        | none: W is the weight, never changes |
| `A`       | A                        | A·o_i·o_j                           |
| `AD`      | A, D                     | A·o_i·o_j + D                       |
| `ABC`     | A, B, C                  | A·o_i·o_j + B·o_i + C·o_j           |
| `ABCD`    | A, B, C, D               | A·o_i·o_j + B·o_i + C·o_j + D       |
| `ABCD_lr` | A, B, C, D, eta          | η(A·o_i·o_j + B·o_i + C·o_j + D)    |

Genome layout (one flat float vector per individual): layers in order from input to output; within a layer
the rule's coefficients in the order of the table; each coefficient an (out, in) matrix flattened row-major
("C" order). For `ABCD_lr` with sizes (4, 2, 2) the genome is
[A¹ (2×4) | B¹ | C¹ | D¹ | η¹ | A² (2×2) | B² | C² | D² | η²], 5·8 + 5·4 = 60 numbers.
`PlasticNet.layout()` lists every block with its offset.

Batch shapes: an agent is (individual p, episode e). Weights are [P, E, out, in]; coefficients are
[P, 1, out, in] and broadcast over the E episodes of an individual, so each is read once per step.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

from underact.agents import kernels
from underact.agents.config import RULE_COEFFICIENTS, RULES  # noqa: F401 - re-exported


@dataclass(frozen=True)
class Block:
    """One coefficient matrix of the genome: `genome[offset : offset + out * in]` reshaped to (out, in)."""

    layer: int
    coefficient: str
    offset: int
    shape: tuple[int, int]


@dataclass
class LayerTerms:
    """A layer's update terms with η folded in: Δw = a·(o_j o_i) + b·o_i + c·o_j + d; None if absent.

    Each present term is a [P, 1, out, in] tensor; `static` layers hold their weights in `w` instead.
    """

    a: torch.Tensor | None = None
    b: torch.Tensor | None = None
    c: torch.Tensor | None = None
    d: torch.Tensor | None = None
    w: torch.Tensor | None = None

    @cached_property
    def kernel_args(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(a, b, c, d) as float32 arrays [P, 1, out, in] for the fused kernel, absent terms as zeros; built once
        per evaluation, not per step."""
        terms = (self.a, self.b, self.c, self.d)
        zeros = np.zeros(self.a.shape, dtype=np.float32) if any(t is None for t in terms) else None
        return tuple(zeros if t is None else t.numpy() for t in terms)


class PlasticNet:
    """A batched fully connected tanh network whose weights follow one Hebbian rule.

    `sizes` is (inputs, hidden..., outputs). `norm` divides every layer's weights by their largest absolute
    value after each update (the paper's optional weight normalisation). Fresh weights are U(-init_scale,
    init_scale).
    """

    def __init__(self, sizes: tuple[int, ...], rule: str, norm: bool = False, init_scale: float = 0.1):
        if rule not in RULE_COEFFICIENTS:
            raise ValueError(f"unknown rule {rule!r}; expected one of {', '.join(RULES)}")
        if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
            raise ValueError(f"sizes must be (inputs, hidden..., outputs) with positive entries, got {sizes}")
        self.sizes = tuple(int(s) for s in sizes)
        self.rule = rule
        self.norm = norm
        self.init_scale = float(init_scale)
        self.coefficients = RULE_COEFFICIENTS[rule]
        self.shapes = [(o, i) for i, o in zip(self.sizes[:-1], self.sizes[1:], strict=True)]
        self.num_params = len(self.coefficients) * sum(o * i for o, i in self.shapes)

    @property
    def plastic(self) -> bool:
        return self.rule != "static"

    def layout(self) -> list[Block]:
        """Every coefficient block of the flat genome, in order."""
        blocks, offset = [], 0
        for layer, shape in enumerate(self.shapes):
            for name in self.coefficients:
                blocks.append(Block(layer, name, offset, shape))
                offset += shape[0] * shape[1]
        return blocks

    def terms(self, genomes: torch.Tensor) -> list[LayerTerms]:
        """Splits genomes [P, G] into per-layer update terms [P, 1, out, in] with η folded in."""
        if genomes.ndim != 2 or genomes.shape[1] != self.num_params:
            raise ValueError(
                f"genomes must be [population, {self.num_params}] for rule {self.rule} and sizes "
                f"{self.sizes}, got {tuple(genomes.shape)}"
            )
        genomes = genomes.to(torch.float32)
        p = genomes.shape[0]
        blocks: dict[tuple[int, str], torch.Tensor] = {}
        for blk in self.layout():
            n = blk.shape[0] * blk.shape[1]
            blocks[(blk.layer, blk.coefficient)] = genomes[:, blk.offset : blk.offset + n].reshape(p, 1, *blk.shape)
        layers = []
        for layer in range(len(self.shapes)):
            got = {name: blocks[(layer, name)] for name in self.coefficients}
            if not self.plastic:
                layers.append(LayerTerms(w=got["W"]))
                continue
            eta = got.get("eta")
            scaled = {k: (v * eta if eta is not None else v).contiguous() for k, v in got.items() if k != "eta"}
            layers.append(LayerTerms(a=scaled["A"], b=scaled.get("B"), c=scaled.get("C"), d=scaled.get("D")))
        return layers

    def initial_weights(self, terms: list[LayerTerms], generators: list[torch.Generator], episodes: int):
        """Weights for the start of an episode: [P, E, out, in] per layer.

        Plastic rules draw U(-init_scale, init_scale) from `generators[p]` (one per individual, so an
        individual's weights do not depend on which slice of the population it is evaluated in); `static`
        copies the evolved weights.
        """
        if not self.plastic:
            return [t.w.expand(-1, episodes, -1, -1).clone() for t in terms]
        weights = []
        for out, inp in self.shapes:
            per = [
                torch.rand((episodes, out, inp), generator=g, dtype=torch.float32) * (2 * self.init_scale)
                - self.init_scale
                for g in generators
            ]
            weights.append(torch.stack(per))
        return weights

    def step(self, weights: list[torch.Tensor], terms: list[LayerTerms], x: torch.Tensor) -> torch.Tensor:
        """One forward pass of x [P, E, in] and, for plastic rules, the Hebbian update of `weights` in place.

        Weights must be contiguous float32 CPU tensors (as `initial_weights` makes them). Returns the output
        layer's tanh activations [P, E, out]. The tensor form of `step_arrays`.
        """
        for w in weights:
            if not w.is_contiguous() or w.dtype != torch.float32:
                raise ValueError(f"weights must be contiguous float32 tensors, got {w.dtype}, strides {w.stride()}")
        coefficients = [t.kernel_args for t in terms] if self.plastic else None
        pre = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)
        return torch.from_numpy(self.step_arrays([w.numpy() for w in weights], coefficients, pre))

    def step_arrays(
        self,
        weights: list[np.ndarray],
        coefficients: list[tuple[np.ndarray, ...]] | None,
        x: np.ndarray,
    ) -> np.ndarray:
        """`step` on numpy arrays, as rollouts call it every environment step: x [P, E, in] float32 (C order),
        weights [P, E, out, in] float32 (C order, updated in place), coefficients the layers' `kernel_args` (None
        for `static`). Returns the output layer's activations [P, E, out].

        Each layer is one fused sweep (`underact.agents.kernels`, threads set by `kernels.use_threads`).
        """
        pre = x
        for layer, w in enumerate(weights):
            post = np.empty(w.shape[:3], dtype=np.float32)
            if coefficients is None:
                kernels.static_layer(w, pre, post)
            else:
                kernels.plastic_layer(w, pre, *coefficients[layer], post)
                if self.norm:
                    w /= np.maximum(np.abs(w).max(axis=(-2, -1), keepdims=True), np.float32(1e-12))
            pre = post
        return pre
