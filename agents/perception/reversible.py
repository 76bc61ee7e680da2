"""Reversible residual stack (RevNet; Gomez et al. 2017, as used by the Reformer, Sec. 3).

Each block maps (x1, x2) -> (y1, y2) with y1 = x1 + F(x2) and y2 = x2 + G(y1). The inputs are recomputed
from the outputs in the backward pass (x2 = y2 - G(y1), x1 = y1 - F(x2)), so only the last layer's output
is kept: memory does not grow with depth. F and G take an integer seed that fixes every random draw they
make (hash rotations, dropout masks), and the backward pass replays the forward pass's seeds.
G must act position by position (a feed-forward layer): its recomputation runs chunk by chunk along L.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import Tensor, nn


class SeededLayer(Protocol):
    """F or G of a reversible block: x [B, L, D] and a seed -> [B, L, D]."""

    def __call__(self, x: Tensor, seed: int) -> Tensor: ...


class ChunkedLayer(SeededLayer, Protocol):
    """G of a reversible block, position-wise: chunk `index` of length `chunk_len(L)` along L, seeded."""

    def chunk_len(self, length: int) -> int: ...

    def apply_chunk(self, x: Tensor, seed: int, index: int) -> Tensor: ...


def _grads(out: Tensor, inp: Tensor, params: list[nn.Parameter], grad_out: Tensor) -> tuple[Tensor, list]:
    """d(out . grad_out) / d(inp, params); unused parameters get None."""
    grads = torch.autograd.grad(out, [inp, *params], grad_out, allow_unused=True)
    return grads[0], list(grads[1:])


def _accumulate(total: list, new: list) -> None:
    for i, g in enumerate(new):
        if g is not None:
            total[i] = g if total[i] is None else total[i] + g


class ReversibleStack(torch.autograd.Function):
    """(x1, x2) through `blocks` [(F, G), ...] with seeds [(sF, sG), ...]; activations are not stored.

    The parameters are passed explicitly (`*params`, in the order of `block_params`) so autograd returns
    their gradients through this Function, and `torch.autograd.grad` works as for any other module. The backward
    pass rebuilds the inputs in the outputs' storage: a second backward pass through the same graph
    (`retain_graph=True`) is refused by torch's in-place check.
    """

    @staticmethod
    def forward(
        ctx,
        x1: Tensor,
        x2: Tensor,
        blocks: list[tuple[SeededLayer, ChunkedLayer]],
        seeds: list[tuple[int, int]],
        block_params: list[tuple[list[nn.Parameter], list[nn.Parameter]]],
        *params: Tensor,
    ):
        with torch.no_grad():
            for (f, g), (sf, sg) in zip(blocks, seeds, strict=True):
                x1 = x1 + f(x2, sf)
                x2 = x2 + g(x1, sg)
        ctx.blocks, ctx.seeds, ctx.block_params = blocks, seeds, block_params
        ctx.save_for_backward(x1, x2)
        return x1, x2

    @staticmethod
    def backward(ctx, dy1: Tensor, dy2: Tensor):
        # The outputs y1, y2 (saved) become each layer's inputs in place, and the gradients accumulate in place in
        # one copy of dy1, dy2: the backward pass holds four [B, L, D] tensors besides one layer's graph, at any
        # depth. (The outputs are the stack's own: its caller reads them only in the forward pass.)
        y1, y2 = ctx.saved_tensors
        dy1, dy2 = dy1.clone(), dy2.clone()
        param_grads: list = []
        for (f, g), (sf, sg), (pf, pg) in zip(
            reversed(ctx.blocks), reversed(ctx.seeds), reversed(ctx.block_params), strict=True
        ):
            # G, chunk by chunk along L: x2 = y2 - G(y1), dy1 += dG/dy1^T dy2
            gg: list = [None] * len(pg)
            step = g.chunk_len(y1.shape[1])
            for index, start in enumerate(range(0, y1.shape[1], step)):
                part = slice(start, start + step)
                y1c = y1[:, part].detach().requires_grad_(True)
                with torch.enable_grad():
                    out = g.apply_chunk(y1c, sg, index)
                dy1c, grads = _grads(out, y1c, pg, dy2[:, part])
                _accumulate(gg, grads)
                y2[:, part] -= out.detach()
                dy1[:, part] += dy1c
            # F: x1 = y1 - F(x2), dx2 = dy2 + dF/dx2^T dy1
            x2 = y2.detach().requires_grad_(True)
            with torch.enable_grad():
                out = f(x2, sf)
            dx2, fg = _grads(out, x2, pf, dy1)
            del x2
            y1 -= out.detach()
            dy2 += dx2
            del out, dx2
            param_grads = fg + gg + param_grads
        return (dy1, dy2, None, None, None, *param_grads)
