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
PROJECTION_ELEMENTS = 1 << 20  # hash projections computed at a time (4 MB of float32)
SCORE_ELEMENTS = 1 << 20  # attention scores per slice of chunks (4 MB of float32; a bucket of 64 makes 128 chunks)


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
    buckets = torch.empty(n, n_hashes, length, dtype=torch.long, device=qk.device)
    # The projections [N, R, L, b/2] grow as L² / bucket_size (512 buckets at L = 32K: 134 MB): they are made
    # PROJECTION_ELEMENTS at a time along L, so hashing never holds more than a few MB.
    step = max(1, PROJECTION_ELEMENTS // (n * n_hashes * (n_buckets // 2)))
    for start in range(0, length, step):
        proj = torch.einsum("nld,rdb->nrlb", qk[:, start : start + step], rot)  # [N, R, l, b/2]
        # argmax over [xR; -xR] without building it: the largest |xR_j|, in the second half when xR_j < 0.
        arg = proj.abs().argmax(dim=-1)
        negative = proj.gather(-1, arg[..., None]).squeeze(-1) < 0
        buckets[..., start : start + step] = arg + negative * (n_buckets // 2)
    return buckets


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


class _Chunks:
    """Where the chunks of a pass live: chunk m (of M = N x R x C, a group of C per head and round) holds the sorted
    tokens `index[m]` [c], rows of qk.view(N x Lp, d), at positions `pos[m]`; its keys are its own tokens, then
    those of the chunk before it in its group (`prev[m]`; none for a group's first chunk: masked).

    Chunks are processed `step` at a time (about SCORE_ELEMENTS scores), in blocks of whole groups: one group when a
    group holds `step` chunks or more, else as many groups as fit in one slice. The backward pass gathers a block's
    gradients in sorted order and takes them back to each position's order when the block ends.
    """

    def __init__(self, order: Tensor, bucket_size: int, length: int, causal: bool, dropout: float, drop_seed: int):
        n, r, lp = order.shape
        c, n_chunks = bucket_size, lp // bucket_size
        self.c, self.length, self.causal, self.dropout, self.drop_seed = c, length, causal, dropout, drop_seed
        self.shape = (n, r, lp)
        self.pos = order.reshape(-1, c)  # [M, c]
        self.index = (order + lp * torch.arange(n, device=order.device)[:, None, None]).reshape(-1, c)
        chunk = torch.arange(len(self.pos), device=order.device)
        self.prev = torch.where(chunk % n_chunks == 0, chunk + n_chunks - 1, chunk - 1)  # [M]
        self.first_rows = chunk[chunk % n_chunks == 0]
        self.padded = lp > length
        self.step = max(1, SCORE_ELEMENTS // (c * 2 * c))
        self.group = n_chunks
        self.block = n_chunks * max(1, self.step // n_chunks)  # chunks per block: whole groups

    def blocks(self):
        """(block rows, [(slice number, rows), ...]) over the M chunks; slices never cross a block."""
        m, number = len(self.pos), 0
        for start in range(0, m, self.block):
            stop = min(start + self.block, m)
            parts = [slice(a, min(a + self.step, stop)) for a in range(start, stop, self.step)]
            yield slice(start, stop), list(enumerate(parts, number))
            number += len(parts)

    def gather(self, qk: Tensor, v: Tensor, rows: slice) -> tuple[Tensor, Tensor, Tensor]:
        """The slice's raw keys [s, 2c, d] (the first c are its raw queries), values [s, 2c, d] (copied out of qk,
        v [N x Lp, d]) and key positions [s, 2c]; the query positions are `pos[rows]`."""
        s, d = rows.stop - rows.start, qk.shape[-1]
        ki = torch.cat([self.index[rows], self.index[self.prev[rows]]], dim=1).reshape(-1)
        kpos = torch.cat([self.pos[rows], self.pos[self.prev[rows]]], dim=1)
        return qk.index_select(0, ki).view(s, 2 * self.c, d), v.index_select(0, ki).view(s, 2 * self.c, d), kpos

    def mask_(self, t: Tensor, rows: slice, kpos: Tensor, self_value: float, hidden_value: float) -> Tensor:
        """Writes into t [s, c, 2c] (scores, or their gradients): `self_value` where a query meets its own key (the
        diagonal of the first c keys: each token appears once per round), `hidden_value` where a key may not be
        seen (the missing previous chunk of a group's first chunk, padding and, under causal masking, later
        positions). Only the causal case needs a pass over every entry; the rest touch the entries they set."""
        c = self.c
        t[:, :, :c].diagonal(dim1=1, dim2=2).fill_(self_value)
        first = self.first_rows[(self.first_rows >= rows.start) & (self.first_rows < rows.stop)]
        if len(first):
            t.narrow(2, c, c).index_fill_(0, first - rows.start, hidden_value)
        if self.padded:
            t.masked_fill_(kpos[:, None, :] >= self.length, hidden_value)
        if self.causal:
            t.masked_fill_(kpos[:, None, :] > self.pos[rows, :, None], hidden_value)
        return t

    def scores(self, q: Tensor, k: Tensor, kpos: Tensor, rows: slice, number: int) -> tuple[Tensor, Tensor | None]:
        """Masked scores [s, c, 2c] of scaled queries q and unit keys k, and slice `number`'s dropout mask (kept
        entries, scaled by 1 / (1 - rate)) or None."""
        scores = self.mask_(q @ k.transpose(1, 2), rows, kpos, SELF, MASKED)
        keep = None
        if self.dropout > 0:
            generator = torch.Generator().manual_seed(self.drop_seed + number)
            keep = (torch.rand(scores.shape, generator=generator) >= self.dropout).to(scores.device)
            keep = keep / (1.0 - self.dropout)
        return scores, keep


class _LSHAttention(torch.autograd.Function):
    """Chunked attention of the sorted tokens, every round, and the rounds' combination, in one Function.

    qk, v [N, Lp, d] in their own order, order [N, R, Lp] (sorted slot -> position, from the hashes) -> y [N, Lp, d].
    Both passes gather one slice of chunks at a time straight out of qk and v: no sorted copy of the queries, keys
    or values ([N, R, Lp, d], twice that for keys and values with their previous chunk) is kept. Saved for the
    backward pass: qk, v, y, the rounds' normalisers [M, c] and weights [N, R, Lp]. The backward pass rebuilds each
    slice's probabilities from the normalisers (as flash attention does), so no [M, c, 2c] tensor exists whole, and
    needs no round's output: with dout^r = w^r dy, the softmax backward's Σ_j p_ij dp_ij - dz_i is w^r_i (dy_i · y_i).
    """

    @staticmethod
    def forward(ctx, qk, v, order, bucket_size: int, length: int, causal: bool, dropout: float, drop_seed: int):
        n, lp, d = qk.shape
        r = order.shape[1]
        chunks = _Chunks(order, bucket_size, length, causal, dropout, drop_seed)
        qkf, vf = qk.reshape(n * lp, d), v.reshape(n * lp, d)
        m, c = len(chunks.pos), bucket_size
        out, lse = qk.new_empty(m, c, d), qk.new_empty(m, c)
        for _, parts in chunks.blocks():
            for number, rows in parts:
                raw, vs, kpos = chunks.gather(qkf, vf, rows)
                q = raw[:, :c] / math.sqrt(d)
                scores, keep = chunks.scores(q, F.normalize(raw, dim=-1), kpos, rows, number)
                top = scores.amax(dim=-1, keepdim=True)
                p = scores.sub_(top).exp_()  # unnormalised, in place: one pass for the exponentials
                total = p.sum(dim=-1, keepdim=True)
                lse[rows] = (top + total.log()).squeeze(-1)
                if keep is not None:
                    p = p * keep
                torch.bmm(p, vs, out=out[rows]).div_(total)  # normalised on [s, c, d], not on [s, c, 2c]
        # rounds combined by their normalisers: y_i = sum_r exp(z_i^r - logsumexp_r z_i^r) o_i^r
        undo = torch.empty_like(order).scatter_(2, order, torch.arange(lp, device=order.device).expand_as(order))
        weights = torch.softmax(lse.view(n, r, lp).gather(2, undo), dim=1)  # [N, R, Lp], each position's order
        y = _unsorted(out.view(n, r, lp, d), undo, weights)
        ctx.chunks = chunks
        ctx.save_for_backward(qk, v, y, lse, weights, order, undo)
        return y

    @staticmethod
    def backward(ctx, dy):
        qk, v, y, lse, weights, order, undo = ctx.saved_tensors
        chunks, (n, lp, d), r, c = ctx.chunks, qk.shape, order.shape[1], ctx.chunks.c
        qkf, vf, dyf = qk.reshape(n * lp, d), v.reshape(n * lp, d), dy.contiguous().view(n * lp, d)
        w = weights.gather(2, order).view(-1, c)  # [M, c], sorted like the chunks
        shift = w * (dy * y).sum(-1)[:, None, :].expand(-1, r, -1).gather(2, order).view(-1, c)
        scale = 1.0 / math.sqrt(d)
        dqk, dv = torch.zeros_like(qk), torch.zeros_like(v)
        for block, parts in chunks.blocks():
            # gradients of the block's sorted rows (own chunk's slots), taken back to position order at its end
            dqs, dvs = qk.new_empty(block.stop - block.start, c, d), v.new_empty(block.stop - block.start, c, d)
            for number, rows in parts:
                raw, vs, kpos = chunks.gather(qkf, vf, rows)
                q = raw[:, :c] * scale
                norm = raw.norm(dim=-1, keepdim=True).clamp_min_(1e-12)
                k = raw / norm  # F.normalize
                scores, keep = chunks.scores(q, k, kpos, rows, number)
                p = scores.sub_(lse[rows, :, None]).exp_()  # [s, c, 2c]
                dout = dyf.index_select(0, chunks.index[rows].reshape(-1)).view(-1, c, d).mul_(w[rows, :, None])
                dp = dout @ vs.transpose(1, 2)  # d loss / d (dropped-out p)
                if keep is not None:
                    dp.mul_(keep)
                    dvk = (p * keep).transpose(1, 2) @ dout  # [s, 2c, d]
                else:
                    dvk = p.transpose(1, 2) @ dout
                ds = dp.sub_(shift[rows, :, None]).mul_(p)  # softmax backward, with d z / d scores = p
                chunks.mask_(ds, rows, kpos, 0.0, 0.0)  # overwritten scores: no gradient reaches them
                dk = ds.transpose(1, 2) @ q  # [s, 2c, d], to the unit keys, then through the normalisation:
                dk.sub_(k * (k * dk).sum(-1, keepdim=True)).div_(norm)  # (a zero key gets no gradient: masked)
                local = slice(rows.start - block.start, rows.stop - block.start)
                torch.bmm(ds, k, out=dqs[local]).mul_(scale).add_(dk[:, :c])
                dvs[local] = dvk[:, :c]
                # the previous chunk's keys are chunk m - 1's; a block starts with a group's first chunk, which
                # has no previous chunk (its part of ds is zero)
                skip = 1 if local.start == 0 else 0
                dqs[local.start + skip - 1 : local.stop - 1] += dk[skip:, c:]
                dvs[local.start + skip - 1 : local.stop - 1] += dvk[skip:, c:]
            for g in range(block.start // chunks.group, block.stop // chunks.group):
                head, rnd = divmod(g, r)
                part = slice(g * chunks.group - block.start, (g + 1) * chunks.group - block.start)
                dqk[head] += dqs[part].view(lp, d).index_select(0, undo[head, rnd])
                dv[head] += dvs[part].view(lp, d).index_select(0, undo[head, rnd])
        return dqk, dv, None, None, None, None, None, None


def _unsorted(x: Tensor, undo: Tensor, weights: Tensor | None = None) -> Tensor:
    """sum_r weights[:, r] x[:, r] taken back to each position's order: x [N, R, Lp, d] sorted per round, undo
    [N, R, Lp] (position -> sorted slot), weights [N, R, Lp] or None (ones) -> [N, Lp, d]. One round at a time:
    nothing of size [N, R, Lp, d] is made."""
    total = None
    for r in range(x.shape[1]):
        part = x[:, r].gather(1, undo[:, r, :, None].expand(-1, -1, x.shape[-1]))
        if weights is not None:
            part.mul_(weights[:, r, :, None])
        total = part if total is None else total.add_(part)
    return total


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
    with torch.no_grad():
        buckets = hash_buckets(qk, n_buckets_for(lp, c), n_hashes, generator)  # [N, R, Lp]
        buckets[..., length:] = n_buckets_for(lp, c)  # padding sorts after every real token
        pos = torch.arange(lp, device=qk.device)
        order = (buckets * lp + pos).argsort(dim=-1)  # [N, R, Lp]: sorted slot -> original position
    drop_seed = int(torch.randint(2**62, (1,), generator=generator)) if dropout > 0 else 0
    out = _LSHAttention.apply(qk.contiguous(), v.contiguous(), order, c, length, causal, dropout, drop_seed)
    return out[:, :length]
