"""Hebbian plasticity rules and plastic networks batched over a population (numpy float32, numba kernels).

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

Fresh weights are drawn from a seed per individual with torch's CPU generator (`torch_uniform`, numpy's
Mersenne Twister reproducing `torch.rand(..., generator=torch.Generator().manual_seed(seed))` bit for bit), so
training needs no torch import (1.5 s); torch tensors and generators are still accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numba import njit

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

    Each present term is a [P, 1, out, in] float32 array (C order); `static` layers hold their weights in `w`
    instead.
    """

    a: np.ndarray | None = None
    b: np.ndarray | None = None
    c: np.ndarray | None = None
    d: np.ndarray | None = None
    w: np.ndarray | None = None

    @cached_property
    def kernel_args(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(a, b, c, d) as float32 arrays [P, 1, out, in] for the fused kernel, absent terms as zeros; built once
        per evaluation, not per step."""
        terms = (self.a, self.b, self.c, self.d)
        zeros = np.zeros(self.a.shape, dtype=np.float32) if any(t is None for t in terms) else None
        return tuple(zeros if t is None else t for t in terms)


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

    def terms(self, genomes) -> list[LayerTerms]:
        """Splits genomes [P, G] (a numpy array or a CPU torch tensor) into per-layer update terms [P, 1, out, in]
        with η folded in."""
        genomes = np.asarray(genomes, dtype=np.float32)
        if genomes.ndim != 2 or genomes.shape[1] != self.num_params:
            raise ValueError(
                f"genomes must be [population, {self.num_params}] for rule {self.rule} and sizes "
                f"{self.sizes}, got {tuple(genomes.shape)}"
            )
        p = genomes.shape[0]
        blocks: dict[tuple[int, str], np.ndarray] = {}
        for blk in self.layout():
            n = blk.shape[0] * blk.shape[1]
            blocks[(blk.layer, blk.coefficient)] = genomes[:, blk.offset : blk.offset + n].reshape(p, 1, *blk.shape)
        layers = []
        for layer in range(len(self.shapes)):
            got = {name: blocks[(layer, name)] for name in self.coefficients}
            if not self.plastic:
                layers.append(LayerTerms(w=np.ascontiguousarray(got["W"])))
                continue
            eta = got.get("eta")
            scaled = {k: np.ascontiguousarray(v * eta if eta is not None else v) for k, v in got.items() if k != "eta"}
            layers.append(LayerTerms(a=scaled["A"], b=scaled.get("B"), c=scaled.get("C"), d=scaled.get("D")))
        return layers

    def initial_weights(self, terms: list[LayerTerms], generators: list, episodes: int) -> list:
        """Weights for the start of an episode: [P, E, out, in] float32 per layer.

        Plastic rules draw U(-init_scale, init_scale) from `generators[p]` (one per individual, so an
        individual's weights do not depend on which slice of the population it is evaluated in): an integer seed
        (numpy arrays, the numbers `torch.Generator().manual_seed(seed)` would give, see `torch_uniform`) or a
        `torch.Generator` (torch tensors, drawn by torch). Layers are drawn in turn from each individual's stream.
        `static` copies the evolved weights.
        """
        as_torch = any(not isinstance(g, (int, np.integer)) for g in generators)
        if not self.plastic:
            weights = [
                np.ascontiguousarray(np.broadcast_to(t.w, (t.w.shape[0], episodes, *t.w.shape[2:]))) for t in terms
            ]
        else:
            sizes = [episodes * out * inp for out, inp in self.shapes]
            if as_torch:
                import torch

                draws = [torch.rand(sum(sizes), generator=g, dtype=torch.float32).numpy() for g in generators]
                uniform = np.stack(draws) if draws else np.empty((0, sum(sizes)), np.float32)
            else:
                uniform = torch_uniforms(generators, sum(sizes))
            ends = np.cumsum(sizes)
            weights = [
                uniform[:, end - size : end].reshape(len(generators), episodes, out, inp) * (2 * self.init_scale)
                - self.init_scale
                for (out, inp), size, end in zip(self.shapes, sizes, ends, strict=True)
            ]
        if as_torch:
            import torch

            return [torch.from_numpy(w) for w in weights]
        return weights

    def step(self, weights: list, terms: list[LayerTerms], x):
        """One forward pass of x [P, E, in] and, for plastic rules, the Hebbian update of `weights` in place.

        Weights must be contiguous float32 CPU arrays or torch tensors (as `initial_weights` makes them). Returns
        the output layer's tanh activations [P, E, out], a torch tensor when x is one. The convenient form of
        `step_arrays`.
        """
        arrays = [w.numpy() if hasattr(w, "numpy") and not isinstance(w, np.ndarray) else w for w in weights]
        for w in arrays:
            if not isinstance(w, np.ndarray) or not w.flags.c_contiguous or w.dtype != np.float32:
                raise ValueError(
                    f"weights must be contiguous float32 arrays, got {getattr(w, 'dtype', type(w).__name__)}, "
                    f"strides {getattr(w, 'strides', None)}"
                )
        coefficients = [t.kernel_args for t in terms] if self.plastic else None
        is_tensor = not isinstance(x, np.ndarray) and hasattr(x, "numpy")
        pre = np.ascontiguousarray(x.detach().cpu().numpy() if is_tensor else x, dtype=np.float32)
        out = self.step_arrays(arrays, coefficients, pre)
        if is_tensor:
            import torch

            return torch.from_numpy(out)
        return out

    def step_arrays(
        self,
        weights: list[np.ndarray],
        coefficients: list[tuple[np.ndarray, ...]] | None,
        x: np.ndarray,
    ) -> np.ndarray:
        """`step` on numpy arrays: x [P, E, in] float32, weights [P, E, out, in] float32 (C order, updated in
        place), coefficients the layers' `kernel_args` (None for `static`). Returns the output layer's activations
        [P, E, out].

        One step of a `PlasticBatch` on copies of the weights, written back with its update applied. Rollouts keep
        a `PlasticBatch` instead (no copies, each update deferred into the next step's sweep).
        """
        batch = PlasticBatch(self, weights, coefficients)
        out = batch.act(x)
        if self.plastic:
            for w, new in zip(weights, batch.weights(), strict=True):
                w[...] = new
        return out


class PlasticBatch:
    """The networks of P individuals × E episodes during rollouts, in the kernels' layouts
    (`underact.agents.kernels`).

    Built from weights [P, E, out, in] per layer (`PlasticNet.initial_weights`, copied) and the layers'
    coefficients (`LayerTerms.kernel_args`, None for `static`). `act(x)` runs one step of every network:
    observations x [P, E, in] → output activations [P, E, out] (a new array). Each layer's Hebbian update is applied
    in the next step's sweep over its weights (exactly the eager order's arithmetic on the outputs); with `norm`
    (which needs the updated weights whole before the next dot product) every update is applied and normalised at
    once. `keep(mask)` drops individuals; `weights()` gives the weights an eager step would hold now.
    """

    def __init__(self, net: PlasticNet, weights: list, coefficients: list | None):
        # The kernels do not check indices, so every shape is checked here.
        if len(weights) != len(net.shapes) or (coefficients is not None and len(coefficients) != len(net.shapes)):
            raise ValueError(f"need {len(net.shapes)} layers of weights and coefficients for sizes {net.sizes}")
        p, e = np.shape(weights[0])[:2] if np.ndim(weights[0]) == 4 else (0, 0)
        for layer, (out, inp) in enumerate(net.shapes):
            if np.shape(weights[layer]) != (p, e, out, inp) or p < 1 or e < 1:
                raise ValueError(
                    f"layer {layer} weights must be [P, E, {out}, {inp}] like layer 0's, got {np.shape(weights[layer])}"
                )
            if coefficients is not None and any(np.shape(t) != (p, 1, out, inp) for t in coefficients[layer]):
                raise ValueError(f"layer {layer} coefficients must be [{p}, 1, {out}, {inp}] each")
        self.net = net
        self.columns = [kernels.use_columns(i, o) for o, i in net.shapes]
        self.w = [kernels.to_layout(np.asarray(w, np.float32), c) for w, c in zip(weights, self.columns, strict=True)]
        n = len(self.w[0])
        if coefficients is None:
            self.co = [np.empty((n, 0, 0, 0), np.float32) for _ in self.w]
        else:
            self.co = [kernels.pack_coefficients(*t, c) for t, c in zip(coefficients, self.columns, strict=True)]
        self.deferred = net.plastic and not net.norm
        self.last: list | None = None  # per layer, (pre, post) of the last step: its update is pending

    def act(self, x: np.ndarray) -> np.ndarray:
        """One step: x [P, E, in] (kept: copied) → the output layer's activations [P, E, out]."""
        pre = np.array(x, dtype=np.float32, order="C", copy=True)
        p, n_in = len(self.w[0]), self.net.sizes[0]
        e = self.w[0].shape[2]
        if pre.shape != (p, e, n_in):  # the kernels do not check indices: a wrong shape is refused here
            raise ValueError(
                f"observations must be [{p}, {e}, {n_in}] (individuals, episodes, inputs), got {pre.shape}"
            )
        pending, steps = self.last, []
        for layer, (w, co, columns) in enumerate(zip(self.w, self.co, self.columns, strict=True)):
            post = np.empty((p, e, self.net.shapes[layer][0]), np.float32)
            if pending is None:
                kernels.layer(w, co, pre, post, pre, post, kernels.DOT, columns)
            else:
                kernels.layer(w, co, *pending[layer], pre, post, kernels.UPDATE_DOT, columns)
            if self.net.plastic and not self.deferred:  # update now, then normalise (`norm`)
                kernels.layer(w, co, pre, post, pre, np.empty_like(post), kernels.UPDATE, columns)
                w /= np.maximum(np.abs(w).max(axis=(1, 3), keepdims=True), np.float32(1e-12))
            steps.append((pre, post))
            pre = post
        self.last = steps if self.deferred else None
        return pre.copy()

    def keep(self, mask: np.ndarray) -> None:
        """Keeps the individuals where mask [P] is true, in order."""
        self.w = [w[mask] for w in self.w]
        self.co = [co[mask] for co in self.co]
        if self.last is not None:
            self.last = [(pre[mask], post[mask]) for pre, post in self.last]

    def weights(self) -> list[np.ndarray]:
        """The weights [P, E, out, in] per layer with every update applied (new arrays)."""
        out = []
        for layer, (w, co, columns) in enumerate(zip(self.w, self.co, self.columns, strict=True)):
            w = w.copy()
            if self.last is not None:
                pre, post = self.last[layer]
                kernels.layer(w, co, pre, post, pre, np.empty_like(post), kernels.UPDATE, columns)
            out.append(np.ascontiguousarray(kernels.from_layout(w, columns)))
        return out


def torch_uniform(seed: int, n: int) -> np.ndarray:
    """n float32 numbers in [0, 1), the ones `torch.rand(n, generator=torch.Generator().manual_seed(seed))` gives
    on the CPU, without torch: `torch_uniforms([seed], n)[0]`."""
    return torch_uniforms([seed], n)[0]


def torch_uniforms(seeds, n: int) -> np.ndarray:
    """[len(seeds), n] float32: row p holds the n numbers `torch.rand(n, generator=torch.Generator().manual_seed(
    seeds[p]))` gives on the CPU, without torch, all rows in one compiled call.

    torch's CPU generator is the 32-bit Mersenne Twister seeded with the seed's low 32 bits (`init_genrand`, as
    numpy's legacy `RandomState(seed)`); a float32 is its next 32-bit output's low 24 bits times 2⁻²⁴ (exact in
    float32). The tests compare this with torch itself.
    """
    low = np.array([int(s) & 0xFFFFFFFF for s in seeds], dtype=np.uint32)
    out = np.empty((len(low), int(n)), np.float32)
    _mersenne_uniforms(low, out)
    return out


_MT_N, _MT_M = 624, 397
_U32 = np.uint32


@njit(cache=True)
def _mersenne_uniforms(seeds, out):  # pragma: no cover - compiled
    """out[p] = the float32 uniforms of MT19937 seeded by `init_genrand(seeds[p])` (see `torch_uniforms`)."""
    mt = np.empty(_MT_N, np.uint32)
    for p in range(len(seeds)):
        mt[0] = seeds[p]
        for i in range(1, _MT_N):
            prev = mt[i - 1]
            mt[i] = _U32(1812433253) * (prev ^ (prev >> _U32(30))) + _U32(i)  # modulo 2^32
        index = _MT_N
        for j in range(out.shape[1]):
            if index == _MT_N:  # the next 624 words
                for k in range(_MT_N):
                    y = (mt[k] & _U32(0x80000000)) | (mt[(k + 1) % _MT_N] & _U32(0x7FFFFFFF))
                    word = mt[(k + _MT_M) % _MT_N] ^ (y >> _U32(1))
                    if y & _U32(1):
                        word ^= _U32(0x9908B0DF)
                    mt[k] = word
                index = 0
            y = mt[index]
            index += 1
            y ^= y >> _U32(11)
            y ^= (y << _U32(7)) & _U32(0x9D2C5680)
            y ^= (y << _U32(15)) & _U32(0xEFC60000)
            y ^= y >> _U32(18)
            out[p, j] = np.float32(y & _U32(0xFFFFFF)) * np.float32(2.0**-24)
