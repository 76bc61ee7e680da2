"""The Reformer encoder: LSH self-attention and chunked feed-forward in reversible residual layers.

Kitaev, Kaiser, Levskaya, "Reformer: The Efficient Transformer", ICLR 2020 (arXiv 2001.04451).
x [B, L, dim] -> [B, L, dim]. No positional encoding is added: the caller adds one if order matters.
Sequences of at most `full_attention_max_len` tokens (default 2 x bucket_size) use plain shared-QK attention
(cheaper there, and exact); longer ones use LSH attention (see `lsh.py`).

Randomness (hash rotations, dropout masks) comes from one integer seed per layer and branch. In training
mode the seeds are drawn from torch's global generator (reproducible under `torch.manual_seed`); in eval
mode fixed seeds stored with the weights are used, so a frozen encoder is a deterministic function.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from underact.agents.perception.lsh import full_attention, lsh_attention, seeded_dropout
from underact.agents.perception.reversible import ReversibleStack

_SEED_RANGE = 2**62


class LSHSelfAttention(nn.Module):
    """F of a reversible block: pre-norm multi-head shared-QK attention, LSH above the length threshold."""

    def __init__(
        self,
        dim: int,
        heads: int,
        bucket_size: int,
        n_hashes: int,
        causal: bool,
        dropout: float,
        full_attention_max_len: int,
    ) -> None:
        super().__init__()
        self.heads, self.bucket_size, self.n_hashes = heads, bucket_size, n_hashes
        self.causal, self.dropout, self.full_attention_max_len = causal, dropout, full_attention_max_len
        self.norm = nn.LayerNorm(dim)
        self.to_qk = nn.Linear(dim, dim, bias=False)
        self.to_v = nn.Linear(dim, dim, bias=False)
        self.to_out = nn.Linear(dim, dim)

    def _split(self, t: Tensor) -> Tensor:  # [B, L, dim] -> [B * heads, L, dim / heads]
        b, length, dim = t.shape
        return t.view(b, length, self.heads, dim // self.heads).transpose(1, 2).reshape(b * self.heads, length, -1)

    def forward(self, x: Tensor, seed: int) -> Tensor:
        generator = torch.Generator().manual_seed(seed)
        b, length, dim = x.shape
        h = self.norm(x)
        qk, v = self._split(self.to_qk(h)), self._split(self.to_v(h))
        rate = self.dropout if self.training else 0.0
        if length <= self.full_attention_max_len:
            out = full_attention(qk, v, causal=self.causal, generator=generator, dropout=rate)
        else:
            out = lsh_attention(
                qk,
                v,
                bucket_size=self.bucket_size,
                n_hashes=self.n_hashes,
                causal=self.causal,
                generator=generator,
                dropout=rate,
            )
        out = out.view(b, self.heads, length, -1).transpose(1, 2).reshape(b, length, dim)
        return self.to_out(out)


class ChunkedFeedForward(nn.Module):
    """G of a reversible block: pre-norm position-wise MLP applied `chunk` positions at a time."""

    def __init__(self, dim: int, mult: int, dropout: float, chunk: int) -> None:
        super().__init__()
        self.dropout, self.chunk = dropout, chunk
        self.norm = nn.LayerNorm(dim)
        self.hidden = nn.Linear(dim, dim * mult)
        self.out = nn.Linear(dim * mult, dim)

    def chunk_len(self, length: int) -> int:
        return min(self.chunk, length)

    def apply_chunk(self, x: Tensor, seed: int, index: int) -> Tensor:
        h = torch.relu(self.hidden(self.norm(x)))
        if self.training and self.dropout > 0:
            h = seeded_dropout(h, self.dropout, torch.Generator().manual_seed((seed + index) % _SEED_RANGE))
        return self.out(h)

    def forward(self, x: Tensor, seed: int) -> Tensor:
        step = self.chunk_len(x.shape[1])
        parts = x.split(step, dim=1)
        return torch.cat([self.apply_chunk(p, seed, i) for i, p in enumerate(parts)], dim=1)


class ReformerEncoder(nn.Module):
    """Stack of `depth` Reformer layers, reversible (RevNet) or plain residual, x [B, L, dim] -> [B, L, dim].

    Args:
        dim: model width; `dim % heads == 0`.
        depth: number of layers (attention + feed-forward each).
        heads: attention heads.
        bucket_size: chunk length of LSH attention; there are about L / bucket_size buckets per round.
        n_hashes: hash rounds; more rounds, fewer missed neighbours, more time.
        causal: a position never attends to a later one.
        reversible: recompute activations in the backward pass instead of storing them (memory flat in depth).
        dropout: dropout on attention weights and the feed-forward hidden layer (training mode only).
        ff_mult: hidden width of the feed-forward layer is ff_mult x dim.
        ff_chunk: positions per feed-forward chunk.
        full_attention_max_len: sequences up to this length use full attention; default 2 x bucket_size.
    """

    def __init__(
        self,
        dim: int = 64,
        depth: int = 2,
        heads: int = 2,
        bucket_size: int = 64,
        n_hashes: int = 4,
        causal: bool = False,
        reversible: bool = True,
        dropout: float = 0.0,
        ff_mult: int = 4,
        ff_chunk: int = 4096,
        full_attention_max_len: int | None = None,
    ) -> None:
        super().__init__()
        if dim <= 0 or heads <= 0 or dim % heads:
            raise ValueError(f"dim must be a positive multiple of heads, got dim={dim}, heads={heads}")
        if depth <= 0 or bucket_size <= 0 or n_hashes <= 0 or ff_chunk <= 0:
            raise ValueError("depth, bucket_size, n_hashes and ff_chunk must be positive integers")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.dim, self.depth, self.reversible = dim, depth, reversible
        max_full = 2 * bucket_size if full_attention_max_len is None else full_attention_max_len
        self.attn = nn.ModuleList(
            LSHSelfAttention(dim, heads, bucket_size, n_hashes, causal, dropout, max_full) for _ in range(depth)
        )
        self.ff = nn.ModuleList(ChunkedFeedForward(dim, ff_mult, dropout, ff_chunk) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.register_buffer("eval_seeds", torch.randint(_SEED_RANGE, (depth, 2)))

    def layer_seeds(self) -> list[tuple[int, int]]:
        """Seeds (attention, feed-forward) per layer for the next forward pass (see the module docstring)."""
        seeds = torch.randint(_SEED_RANGE, (self.depth, 2)) if self.training else self.eval_seeds
        return [(int(a), int(f)) for a, f in seeds.tolist()]

    def forward(self, x: Tensor, seeds: list[tuple[int, int]] | None = None) -> Tensor:
        """x [B, L, dim] -> [B, L, dim]. `seeds` overrides `layer_seeds()` (to replay a pass exactly)."""
        if x.dim() != 3 or x.shape[-1] != self.dim or x.shape[1] == 0:
            raise ValueError(
                f"ReformerEncoder expects x of shape [B, L, dim={self.dim}] with L >= 1, got {tuple(x.shape)}"
            )
        seeds = self.layer_seeds() if seeds is None else seeds
        if len(seeds) != self.depth:
            raise ValueError(f"seeds must hold {self.depth} (attention, feed-forward) pairs, got {len(seeds)}")
        blocks = list(zip(self.attn, self.ff, strict=True))
        if self.reversible:
            block_params = [(list(f.parameters()), list(g.parameters())) for f, g in blocks]
            params = [p for pf, pg in block_params for p in (*pf, *pg)]
            x1, x2 = ReversibleStack.apply(x, x, blocks, seeds, block_params, *params)
        else:
            x1 = x2 = x
            for (f, g), (sf, sg) in zip(blocks, seeds, strict=True):
                x1 = x1 + f(x2, sf)
                x2 = x2 + g(x1, sg)
        return self.norm((x1 + x2) / 2)
