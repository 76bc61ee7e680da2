"""ReformerEncoder and LSH attention against direct dense implementations written here, loop by loop."""

from __future__ import annotations

import math

import pytest
import torch

from underact.agents.perception import ReformerEncoder
from underact.agents.perception.lsh import (
    SELF,
    hash_buckets,
    lsh_attention,
    n_buckets_for,
)


def dense_lsh_reference(qk, v, bucket_size, n_hashes, causal, seed):
    """LSH attention query by query: same buckets (same seed), explicit windows, rounds by normalisers."""
    n, length, d = qk.shape
    lp = math.ceil(length / bucket_size) * bucket_size
    padded = torch.cat([qk, qk.new_zeros(n, lp - length, d)], dim=1)
    buckets = hash_buckets(padded, n_buckets_for(lp, bucket_size), n_hashes, torch.Generator().manual_seed(seed))
    out = torch.zeros(n, length, d, dtype=qk.dtype)
    for b in range(n):
        outs, lses = torch.zeros(n_hashes, length, d, dtype=qk.dtype), torch.zeros(n_hashes, length, dtype=qk.dtype)
        for r in range(n_hashes):
            key = [(int(buckets[b, r, i]), i) if i < length else (10**9, i) for i in range(lp)]
            order = [i for _, i in sorted(key)]
            for slot, i in enumerate(order):
                if i >= length:
                    continue
                chunk = slot // bucket_size
                window = order[chunk * bucket_size : (chunk + 1) * bucket_size]
                if chunk > 0:
                    window = window + order[(chunk - 1) * bucket_size : chunk * bucket_size]
                logits, values = [], []
                for j in window:
                    if j >= length or (causal and j > i):
                        continue
                    k = qk[b, j] / qk[b, j].norm()
                    logits.append(SELF if j == i else float(qk[b, i] @ k) / math.sqrt(d))
                    values.append(v[b, j])
                logits = torch.tensor(logits, dtype=qk.dtype)
                lses[r, i] = torch.logsumexp(logits, 0)
                outs[r, i] = torch.softmax(logits, 0) @ torch.stack(values)
        w = torch.softmax(lses, dim=0)
        out[b] = (w[..., None] * outs).sum(0)
    return out


@pytest.mark.parametrize("causal", [False, True])
def test_lsh_attention_matches_query_by_query_reference_with_padding(causal):
    torch.manual_seed(0)
    qk, v = torch.randn(2, 90, 8, dtype=torch.float64), torch.randn(2, 90, 8, dtype=torch.float64)  # 90 = 5x16+10
    got = lsh_attention(qk, v, bucket_size=16, n_hashes=3, causal=causal, generator=torch.Generator().manual_seed(7))
    want = dense_lsh_reference(qk, v, 16, 3, causal, seed=7)
    torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)


def test_hash_buckets_is_argmax_over_rotation_and_its_negative():
    torch.manual_seed(1)
    x = torch.randn(3, 50, 6)
    got = hash_buckets(x, 8, 2, torch.Generator().manual_seed(3))
    rot = torch.randn(2, 6, 4, generator=torch.Generator().manual_seed(3))
    for r in range(2):
        proj = x @ rot[r]
        assert torch.equal(got[:, r], torch.cat([proj, -proj], -1).argmax(-1))
    assert got.min() >= 0 and got.max() < 8 and len(got.unique()) > 4


def full_attention_reference(qk, v, causal):
    """softmax over all keys, unit-norm keys, self only when nothing else (for L = 1 or the first causal query)."""
    d = qk.shape[-1]
    scores = qk @ torch.nn.functional.normalize(qk, dim=-1).transpose(1, 2) / math.sqrt(d)
    eye = torch.eye(qk.shape[1], dtype=torch.bool)
    scores = scores.masked_fill(eye, SELF)
    if causal:
        scores = scores.masked_fill(torch.ones_like(eye).triu(1), -math.inf)
    return torch.softmax(scores, -1) @ v


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("length", [64, 50])  # one bucket, one chunk; 50 is padded to 64
def test_one_bucket_holding_everything_is_full_attention(length, causal):
    torch.manual_seed(2)
    qk, v = torch.randn(4, length, 16, dtype=torch.float64), torch.randn(4, length, 16, dtype=torch.float64)
    got = lsh_attention(qk, v, bucket_size=64, n_hashes=2, causal=causal, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(got, full_attention_reference(qk, v, causal), rtol=1e-9, atol=1e-9)


def test_encoder_lsh_path_equals_full_attention_fallback_when_one_bucket():
    torch.manual_seed(3)
    full = ReformerEncoder(dim=16, depth=2, heads=2, bucket_size=64, n_hashes=2).double().eval()
    lsh = ReformerEncoder(dim=16, depth=2, heads=2, bucket_size=64, n_hashes=2, full_attention_max_len=0)
    lsh.load_state_dict(full.state_dict())
    x = torch.randn(2, 60, 16, dtype=torch.float64)
    torch.testing.assert_close(lsh.double().eval()(x), full(x), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dropout", [0.0, 0.3])
@pytest.mark.parametrize("causal", [False, True])
def test_lsh_attention_backward_matches_finite_differences(causal, dropout):
    """The hand-written backward pass (rounds, chunks, previous chunks, unit keys, padding, dropout) against
    central differences in float64; the same generator seed gives the same hashes and dropout masks each call."""
    torch.manual_seed(4)
    qk, v = (torch.randn(2, 45, 3, dtype=torch.float64, requires_grad=True) for _ in range(2))  # 45 = 5x8+5

    def f(qk, v):
        generator = torch.Generator().manual_seed(9)
        return lsh_attention(qk, v, bucket_size=8, n_hashes=3, causal=causal, generator=generator, dropout=dropout)

    assert torch.autograd.gradcheck(f, (qk, v))


def test_shapes_padding_and_bad_input():
    enc = ReformerEncoder(dim=32, depth=2, heads=4, bucket_size=16, n_hashes=2)
    for length in (1, 7, 33, 100):  # full attention below 32, LSH (padded) above
        assert enc(torch.randn(3, length, 32)).shape == (3, length, 32)
    with pytest.raises(ValueError, match=r"\[B, L, dim=32\]"):
        enc(torch.randn(100, 32))
    with pytest.raises(ValueError, match=r"\[B, L, dim=32\]"):
        enc(torch.randn(2, 100, 31))
    with pytest.raises(ValueError, match="multiple of heads"):
        ReformerEncoder(dim=30, heads=4)


@pytest.mark.parametrize("length", [24, 150])  # full-attention fallback and LSH
@pytest.mark.parametrize("reversible", [False, True])
def test_causal_no_gradient_from_later_positions(length, reversible):
    torch.manual_seed(5)
    enc = ReformerEncoder(dim=16, depth=2, heads=2, bucket_size=16, n_hashes=2, causal=True, reversible=reversible)
    x = torch.randn(2, length, 16, requires_grad=True)
    t = length // 2
    enc(x)[:, t].square().sum().backward()
    assert x.grad[:, t + 1 :].abs().max() == 0
    assert x.grad[:, : t + 1].abs().sum(-1).min() > 0  # every earlier position can matter


def test_not_causal_later_positions_do_matter():
    torch.manual_seed(5)
    enc = ReformerEncoder(dim=16, depth=2, heads=2, bucket_size=16, n_hashes=4)
    x = torch.randn(1, 150, 16, requires_grad=True)
    enc(x)[:, 10].square().sum().backward()
    assert x.grad[:, 11:].abs().sum() > 0


def test_deterministic_under_seed_and_in_eval_mode():
    def run(seed):
        torch.manual_seed(seed)
        enc = ReformerEncoder(dim=16, depth=2, heads=2, bucket_size=8, n_hashes=2, dropout=0.1)
        return enc(torch.randn(2, 100, 16)), enc

    (a, enc), (b, _), (c, _) = run(0), run(0), run(1)
    assert torch.equal(a, b) and not torch.allclose(a, c)
    enc.eval()
    x = torch.randn(2, 100, 16)
    assert torch.equal(enc(x), enc(x))
    enc.train()
    assert not torch.equal(enc(x), enc(x))  # new hashes and dropout masks each training pass


@pytest.mark.parametrize("causal", [False, True])
def test_reversible_gradients_match_non_reversible_with_same_hashes_and_dropout(causal):
    torch.manual_seed(6)
    kw = dict(dim=32, depth=3, heads=2, bucket_size=16, n_hashes=2, causal=causal, dropout=0.2, ff_chunk=40)
    rev, plain = ReformerEncoder(**kw, reversible=True), ReformerEncoder(**kw, reversible=False)
    plain.load_state_dict(rev.state_dict())
    x, w = torch.randn(2, 150, 32), torch.randn(2, 150, 32)
    seeds = rev.layer_seeds()

    def grads(enc, seeds):
        xg = x.clone().requires_grad_(True)
        y = enc(xg, seeds)
        return y, torch.autograd.grad((y * w).sum(), [xg, *enc.parameters()])

    y_rev, g_rev = grads(rev, seeds)
    y_plain, g_plain = grads(plain, seeds)
    torch.testing.assert_close(y_rev, y_plain, rtol=0, atol=1e-5)
    for a, b in zip(g_rev, g_plain, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    _, g_other = grads(plain, plain.layer_seeds())  # other hashes and masks: gradients differ
    assert (g_other[0] - g_plain[0]).abs().max() > 1e-3


def test_reversible_backward_frees_activations_and_refuses_a_second_pass():
    """The reversible stack keeps no graph across layers: the memory its backward pass holds does not grow with
    depth (measured as the bytes of tensors autograd saves); it rebuilds inputs in place, so a retained graph
    cannot be replayed."""
    from torch.autograd.graph import saved_tensors_hooks

    def saved_bytes(depth, reversible=True):
        torch.manual_seed(8)
        enc = ReformerEncoder(dim=16, depth=depth, heads=2, bucket_size=8, n_hashes=2, reversible=reversible)
        total = [0]

        def pack(t):
            total[0] += t.numel() * t.element_size()
            return t

        with saved_tensors_hooks(pack, lambda t: t):
            enc(torch.randn(1, 200, 16, requires_grad=True))
        return total[0]

    assert saved_bytes(8) == saved_bytes(1)
    assert saved_bytes(8, reversible=False) > 4 * saved_bytes(1, reversible=False)  # the check can see a graph
    enc = ReformerEncoder(dim=16, depth=2, heads=2, bucket_size=8, n_hashes=2)
    y = enc(torch.randn(1, 50, 16, requires_grad=True)).sum()
    y.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="inplace"):
        y.backward()
