"""LSH attention of the Reformer (Kitaev, Kaiser, Levskaya, ICLR 2020, arXiv 2001.04451, Sec. 2-3).

Queries and keys share one projection; keys are the unit-norm queries. Angular LSH puts each token in a
bucket, tokens are sorted by (bucket, position), cut into chunks of `bucket_size`, and each chunk attends to
itself and the chunk before it (the first chunk of a round only to itself). `n_hashes` rounds are combined
by their softmax normalisers: out_i = sum_r exp(z_i^r - logsumexp_r z_i^r) o_i^r (paper, Sec. 2, multi-round).
A token attends to itself only when nothing else is available; under causal masking a query never sees a
later original position. No L x L matrix is ever built.

Shapes: N = batch x heads, L = sequence length, d = head width, R = rounds, C = chunks per round, c = chunk.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

MASKED = -1e9  # a key that may not be seen: padding, a later position (causal), outside the first chunk
SELF = -1e5  # a token attending to itself: wins only when every other key is masked (paper, Sec. 2)


def hash_buckets(qk: Tensor, n_buckets: int, n_hashes: int, generator: torch.Generator) -> Tensor:
    """Angular LSH: bucket = argmax([xR; -xR]) with R a random Gaussian [d, n_buckets/2] matrix per round.

    qk [N, L, d] -> buckets [N, R, L] (int64 in [0, n_buckets)). `n_buckets` must be 1 or even.
    """
    n, length, d = qk.shape
    if n_buckets == 1:
        return torch.zeros(n, n_hashes, length, dtype=torch.long, device=qk.device)
    if n_buckets % 2:
        raise ValueError(f"n_buckets must be 1 or even, got {n_buckets}")
    rot = torch.randn(n_hashes, d, n_buckets // 2, generator=generator).to(qk)  # [R, d, b/2]
    proj = torch.einsum("nld,rdb->nrlb", qk, rot)  # [N, R, L, b/2]
    # argmax over [xR; -xR] without building it: the largest |xR_j|, in the second half when xR_j < 0.
    arg = proj.abs().argmax(dim=-1)
    negative = proj.gather(-1, arg[..., None]).squeeze(-1) < 0
    return arg + negative * (n_buckets // 2)


def n_buckets_for(padded_length: int, bucket_size: int) -> int:
    """Buckets per round: about one chunk's worth of tokens each, rounded up to an even count (or 1)."""
    n_chunks = padded_length // bucket_size
    return n_chunks + n_chunks % 2 if n_chunks > 1 else 1


def seeded_dropout(p: Tensor, rate: float, generator: torch.Generator) -> Tensor:
    """Dropout whose mask comes from `generator`, so a replay with the same seed draws the same mask."""
    if rate == 0.0:
        return p
    keep = torch.rand(p.shape, generator=generator).to(p.device) >= rate
    return p * keep / (1.0 - rate)


def full_attention(qk: Tensor, v: Tensor, *, causal: bool, generator: torch.Generator, dropout: float = 0.0) -> Tensor:
    """Shared-QK attention over the whole sequence (short-sequence fallback): qk, v [N, L, d] -> [N, L, d]."""
    length = qk.shape[1]
    k = F.normalize(qk, dim=-1)
    scores = qk @ k.transpose(1, 2) / math.sqrt(qk.shape[-1])  # [N, L, L]
    pos = torch.arange(length, device=qk.device)
    scores = scores.masked_fill(pos[:, None] == pos[None, :], SELF)
    if causal:
        scores = scores.masked_fill(pos[None, :] > pos[:, None], MASKED)
    return seeded_dropout(scores.softmax(dim=-1), dropout, generator) @ v


class _ChunkAttention(torch.autograd.Function):
    """Attention of each sorted chunk to its keys, computed `rows` chunks at a time in both directions.

    q [M, c, d] (already scaled by 1/sqrt(d)), k, v [M, 2c, d], positions qpos [M, c], kpos [M, 2c], first [M]
    (chunk has no previous chunk) -> out [M, c, d], lse [M, c]. Only inputs and outputs are saved; the
    backward pass rebuilds each slice's probabilities from the saved normalisers (as flash attention does),
    so no [M, c, 2c] tensor is ever stored whole.
    """

    @staticmethod
    def _mask_(ctx, t: Tensor, rows: slice, self_value: float, hidden_value: float) -> Tensor:
        """Writes into t [s, c, 2c] (scores, or their gradients): `self_value` where a query meets its own key (the
        diagonal of the first c keys: each token appears once per round), `hidden_value` where a key may not be
        seen (the missing previous chunk of a round's first chunk, padding and, under causal masking, later
        positions). Only the causal case needs a pass over every entry; the rest touch the entries they set."""
        c = t.shape[1]
        t[:, :, :c].diagonal(dim1=1, dim2=2).fill_(self_value)
        first = ctx.first_rows[(ctx.first_rows >= rows.start) & (ctx.first_rows < rows.start + t.shape[0])]
        if len(first):
            t.narrow(2, c, t.shape[2] - c).index_fill_(0, first - rows.start, hidden_value)
        kpos = ctx.kpos[rows, None, :]
        if ctx.padded:
            t.masked_fill_(kpos >= ctx.length, hidden_value)
        if ctx.causal:
            t.masked_fill_(kpos > ctx.qpos[rows, :, None], hidden_value)
        return t

    @staticmethod
    def _scores(ctx, q: Tensor, k: Tensor, rows: slice, index: int) -> tuple[Tensor, Tensor | None]:
        scores = _ChunkAttention._mask_(ctx, q[rows] @ k[rows].transpose(1, 2), rows, SELF, MASKED)  # [s, c, 2c]
        keep = None
        if ctx.dropout > 0:
            generator = torch.Generator().manual_seed(ctx.drop_seed + index)
            keep = (torch.rand(scores.shape, generator=generator) >= ctx.dropout).to(scores.device)
        return scores, keep

    @staticmethod
    def forward(ctx, q, k, v, qpos, kpos, first, length: int, causal: bool, dropout: float, drop_seed: int):
        ctx.qpos, ctx.kpos, ctx.first, ctx.length, ctx.causal = qpos, kpos, first, length, causal
        ctx.dropout, ctx.drop_seed = dropout, drop_seed
        m, c, d = q.shape
        ctx.padded = bool((kpos >= length).any())
        ctx.first_rows = first.nonzero().squeeze(1)
        ctx.step = max(1, (1 << 21) // (c * k.shape[1]))  # about 8 MB of scores per slice
        out, lse = q.new_empty(m, c, v.shape[-1]), q.new_empty(m, c)
        for index, start in enumerate(range(0, m, ctx.step)):
            rows = slice(start, start + ctx.step)
            scores, keep = _ChunkAttention._scores(ctx, q, k, rows, index)
            top = scores.amax(dim=-1, keepdim=True)
            p = scores.sub_(top).exp_()  # unnormalised, in place: one pass for the exponentials
            total = p.sum(dim=-1, keepdim=True)
            lse[rows] = (top + total.log()).squeeze(-1)
            if keep is not None:
                p = p * keep / (1.0 - dropout)
            torch.bmm(p, v[rows], out=out[rows]).div_(total)  # normalised on [s, c, d], not on [s, c, 2c]
        ctx.save_for_backward(q, k, v, lse, out)
        return out, lse

    @staticmethod
    def backward(ctx, dout, dlse):
        q, k, v, lse, out = ctx.saved_tensors
        # Σ_j p_ij dp_ij = dout_i · out_i (as in flash attention): the softmax backward needs no [c, 2c] product.
        shift = (dout * out).sum(dim=-1) - dlse  # [M, c]
        dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)  # every slice is written
        for index, start in enumerate(range(0, q.shape[0], ctx.step)):
            rows = slice(start, start + ctx.step)
            scores, keep = _ChunkAttention._scores(ctx, q, k, rows, index)
            p = scores.sub_(lse[rows, :, None]).exp_()  # [s, c, 2c]
            dp = dout[rows] @ v[rows].transpose(1, 2)  # d loss / d (dropped-out p)
            if keep is not None:
                torch.bmm((p * keep / (1.0 - ctx.dropout)).transpose(1, 2), dout[rows], out=dv[rows])
                dp = dp * keep / (1.0 - ctx.dropout)
            else:
                torch.bmm(p.transpose(1, 2), dout[rows], out=dv[rows])
            ds = dp.sub_(shift[rows, :, None]).mul_(p)  # softmax backward, plus d lse / d scores = p
            _ChunkAttention._mask_(ctx, ds, rows, 0.0, 0.0)  # overwritten scores: no gradient reaches them
            torch.bmm(ds, k[rows], out=dq[rows])
            torch.bmm(ds.transpose(1, 2), q[rows], out=dk[rows])
        return dq, dk, dv, None, None, None, None, None, None, None


def lsh_attention(
    qk: Tensor,
    v: Tensor,
    *,
    bucket_size: int,
    n_hashes: int,
    causal: bool,
    generator: torch.Generator,
    dropout: float = 0.0,
) -> Tensor:
    """Chunked LSH attention: qk, v [N, L, d] -> [N, L, d]. L is padded to a multiple of `bucket_size`."""
    n, length, d = qk.shape
    c = bucket_size
    pad = (-length) % c
    if pad:
        qk = F.pad(qk, (0, 0, 0, pad))
        v = F.pad(v, (0, 0, 0, pad))
    lp = length + pad
    n_chunks = lp // c
    n_buckets = n_buckets_for(lp, c)
    with torch.no_grad():
        buckets = hash_buckets(qk, n_buckets, n_hashes, generator)  # [N, R, Lp]
        buckets[..., length:] = n_buckets  # padding sorts after every real token
        pos = torch.arange(lp, device=qk.device)
        order = (buckets * lp + pos).argsort(dim=-1)  # [N, R, Lp]: sorted slot -> original position
        undo = order.argsort(dim=-1)  # original position -> sorted slot
        qpos = order.view(n, n_hashes, n_chunks, c)
        kpos = torch.cat([qpos, qpos.roll(1, dims=2)], dim=3)  # [N, R, C, 2c]: own chunk, then previous
        first = (torch.arange(n_chunks, device=qk.device) == 0).expand(n, n_hashes, n_chunks)
    drop_seed = int(torch.randint(2**62, (1,), generator=generator)) if dropout > 0 else 0

    flat = order.reshape(n, n_hashes * lp, 1).expand(-1, -1, d)
    sq = qk.gather(1, flat).view(n, n_hashes, n_chunks, c, d)
    sv = v.gather(1, flat).view(n, n_hashes, n_chunks, c, d)
    sk = F.normalize(sq, dim=-1)
    sk = torch.cat([sk, sk.roll(1, dims=2)], dim=3)  # [N, R, C, 2c, d]
    sv = torch.cat([sv, sv.roll(1, dims=2)], dim=3)

    m = n * n_hashes * n_chunks
    out, lse = _ChunkAttention.apply(
        (sq / math.sqrt(d)).reshape(m, c, d),
        sk.reshape(m, 2 * c, d),
        sv.reshape(m, 2 * c, d),
        qpos.reshape(m, c),
        kpos.reshape(m, 2 * c),
        first.reshape(m),
        length,
        causal,
        dropout,
        drop_seed,
    )
    out = out.view(n, n_hashes, lp, d).gather(2, undo[..., None].expand(-1, -1, -1, d))  # original order
    lse = lse.view(n, n_hashes, lp).gather(2, undo)  # [N, R, Lp]
    weights = torch.softmax(lse, dim=1)  # exp(z^r - logsumexp_r z^r)
    return (weights[..., None] * out).sum(dim=1)[:, :length]
