"""Benchmark: peak memory and time of one forward + backward pass, Reformer vs full attention, over L and depth.

Each (implementation, length, depth) runs in a fresh Python process; its peak memory is the child's peak
resident set size (`resource.getrusage(RUSAGE_SELF).ru_maxrss`, which includes the ~220 MB of the Python +
torch runtime) and the increase over the size measured just before the first pass. Time is the fastest of
`--repeats` passes after one warm-up pass, and with `--rounds` R the whole list runs R times interleaved, keeping
the fastest time and the median memory (the machine is shared: the minimum is the steadiest figure).
Implementations, all dim 64, 2 heads, float32, `torch.set_num_threads(--threads)` (default 2):
  full              pre-norm transformer encoder with explicit softmax(QK^T / sqrt(d)) V (an L x L matrix)
  sdpa              the same encoder with torch's `scaled_dot_product_attention`
  ours              ReformerEncoder, reversible, bucket 64, 2 hashes
  ours-nonrev       ReformerEncoder with plain residual layers
  reformer-pytorch  reformer_pytorch.Reformer (v1.4.x, a benchmark extra), same configuration, reversible
Ratios are printed against `full` and `reformer-pytorch` measured in the same run.

    python scripts/bench_reformer.py                       # L = 1K..16K at depth 2, depth sweep at L = 4096
    python scripts/bench_reformer.py --lengths 1024 8192 --depths 2 --repeats 2
    python scripts/bench_reformer.py --lengths 8192 --depths 2 --depth-length 8192 --rounds 3 --impls ours sdpa
    taskset -c 0 python scripts/bench_reformer.py --lengths 32768 --depths 2 --depth-length 32768 --impls ours sdpa \
        --threads 1 --repeats 1 --rounds 2          # issue 28: one core, one thread
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

IMPLS = ("full", "sdpa", "ours", "ours-nonrev", "reformer-pytorch")
DEPTH_IMPLS = ("ours", "ours-nonrev", "reformer-pytorch")  # the depth sweep compares these
DIM, HEADS, BUCKET, HASHES = 64, 2, 64, 2


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _build(impl: str, depth: int):
    import torch
    import torch.nn.functional as F
    from torch import nn

    if impl in ("ours", "ours-nonrev"):
        from underact.agents.perception import ReformerEncoder

        return ReformerEncoder(DIM, depth, HEADS, BUCKET, HASHES, reversible=impl == "ours")
    if impl == "reformer-pytorch":
        from reformer_pytorch import Reformer

        return Reformer(dim=DIM, depth=depth, heads=HEADS, bucket_size=BUCKET, n_hashes=HASHES, causal=False)

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm1, self.norm2 = nn.LayerNorm(DIM), nn.LayerNorm(DIM)
            self.qkv, self.out = nn.Linear(DIM, 3 * DIM, bias=False), nn.Linear(DIM, DIM)
            self.ff = nn.Sequential(nn.Linear(DIM, 4 * DIM), nn.ReLU(), nn.Linear(4 * DIM, DIM))

        def forward(self, x):
            b, length, _ = x.shape
            q, k, v = self.qkv(self.norm1(x)).view(b, length, 3, HEADS, -1).permute(2, 0, 3, 1, 4)
            if impl == "sdpa":
                a = F.scaled_dot_product_attention(q, k, v)
            else:
                a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1) @ v  # [B, H, L, L]
            x = x + self.out(a.transpose(1, 2).reshape(b, length, DIM))
            return x + self.ff(self.norm2(x))

    return nn.Sequential(*[Block() for _ in range(depth)], nn.LayerNorm(DIM))


def worker(impl: str, length: int, depth: int, repeats: int, threads: int = 2) -> dict:
    """One configuration in this process; returns peak memory (MB) and time (s) of forward + backward."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = _build(impl, depth)
    x = torch.randn(1, length, DIM, requires_grad=True)
    before = _rss_mb()
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        model(x).square().mean().backward()
        times.append(time.perf_counter() - start)
        model.zero_grad(set_to_none=True)
        x.grad = None
    peak = _rss_mb()
    return {
        "impl": impl,
        "L": length,
        "depth": depth,
        "peak_mb": peak,
        "delta_mb": peak - before,
        "time_s": min(times[1:]),
        "threads": threads,
    }


def run_child(impl: str, length: int, depth: int, repeats: int, timeout: float, threads: int = 2) -> dict | None:
    cmd = [sys.executable, __file__, "--worker", impl, str(length), str(depth), "--repeats", str(repeats)]
    cmd += ["--threads", str(threads)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"  {impl} L={length} depth={depth}: over {timeout:.0f} s, skipped", file=sys.stderr)
        return None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["killed"])[-1]
        print(f"  {impl} L={length} depth={depth}: failed ({last})", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def _table(rows: list[dict], key: str, keys: list[int], impls: list[str]) -> None:
    print(f"{key:>6} " + " ".join(f"{i:>26}" for i in impls))
    for k in keys:
        cells = []
        for impl in impls:
            r = next((r for r in rows if r[key] == k and r["impl"] == impl), None)
            cells.append(f"{r['peak_mb']:7.0f} MB (+{r['delta_mb']:6.0f}) {r['time_s']:6.2f} s" if r else "-".rjust(26))
        print(f"{k:>6} " + " ".join(f"{c:>26}" for c in cells))


def _ratios(rows: list[dict], length: int, depth: int) -> None:
    get = {r["impl"]: r for r in rows if r["L"] == length and r["depth"] == depth}
    if "ours" not in get:
        return
    ours = get["ours"]
    for base in ("full", "sdpa", "reformer-pytorch"):
        if base in get:
            b = get[base]
            print(
                f"L={length}, depth {depth}: ours / {base}: peak {ours['peak_mb'] / b['peak_mb']:.3f}, "
                f"increase {ours['delta_mb'] / max(b['delta_mb'], 1e-9):.3f}, time {ours['time_s'] / b['time_s']:.3f}"
            )


def plot(rows: list[dict], depth_rows: list[dict], depth_length: int, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for index, impl in enumerate(IMPLS):
        style = {"marker": "o", "color": f"C{index}", "label": impl}
        pts = sorted((r["L"], r["peak_mb"], r["time_s"]) for r in rows if r["impl"] == impl)
        if pts:
            ls, mem, sec = zip(*pts, strict=True)
            axes[0].plot(ls, mem, **style)
            axes[1].plot(ls, sec, **style)
        dpts = sorted((r["depth"], r["delta_mb"]) for r in depth_rows if r["impl"] == impl and impl in DEPTH_IMPLS)
        if dpts:
            axes[2].plot(*zip(*dpts, strict=True), **style)
    for ax, title in zip(axes[:2], ("peak memory (RSS, MB)", "time, forward + backward (s)"), strict=True):
        ax.set(xscale="log", yscale="log", xlabel="sequence length L", title=title)
        ax.set_xticks(sorted({r["L"] for r in rows}), [f"{r // 1024}K" for r in sorted({r["L"] for r in rows})])
    axes[2].set(xlabel="depth", title=f"memory increase over start (MB), L = {depth_length}")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    threads = sorted({r.get("threads", 2) for r in rows + depth_rows}) or [2]
    fig.suptitle(f"dim 64, 2 heads, bucket 64, 2 hashes, batch 1, float32, {'/'.join(map(str, threads))} CPU threads")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"figure: {out}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[1024, 2048, 4096, 8192, 16384])
    parser.add_argument("--impls", nargs="+", choices=IMPLS, default=list(IMPLS))
    parser.add_argument("--depths", type=int, nargs="+", default=[1, 2, 4, 8], help="depth sweep (at --depth-length)")
    parser.add_argument("--depth-length", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes after one warm-up")
    parser.add_argument(
        "--rounds", type=int, default=1, help="run the whole list this many times, interleaved (fresh processes)"
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per configuration")
    parser.add_argument(
        "--threads", type=int, default=2, help="torch threads per configuration (1 with `taskset -c 0`: one core)"
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "figures" / "reformer_memory.png")
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    parser.add_argument("--from-json", type=Path, help="print and plot the measurements in this --json file")
    parser.add_argument("--worker", nargs=3, metavar=("IMPL", "L", "DEPTH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        impl, length, depth = args.worker[0], int(args.worker[1]), int(args.worker[2])
        print(json.dumps(worker(impl, length, depth, args.repeats, args.threads)))
        return 0
    if min(args.lengths + args.depths + [args.depth_length, args.repeats, args.rounds, args.threads]) < 1:
        parser.error("lengths, depths, --depth-length, --repeats, --rounds and --threads must be positive")

    if args.from_json:  # print and plot earlier measurements (e.g. from another machine) without running
        results = json.loads(args.from_json.read_text())
        args.lengths = sorted({r["L"] for r in results if r["depth"] == 2})
        args.impls = [i for i in IMPLS if any(r["impl"] == i for r in results)]
        args.depths = sorted({r["depth"] for r in results if r["L"] == args.depth_length})
        report(results, args)
        return 0
    from tqdm import tqdm

    jobs = [(i, n, 2) for n in args.lengths for i in args.impls]
    depth_impls = [i for i in DEPTH_IMPLS if i in args.impls]
    jobs += [(i, args.depth_length, d) for d in args.depths for i in depth_impls]
    jobs = list(dict.fromkeys(jobs))  # a depth-sweep point may repeat a length-sweep point
    runs: dict[tuple, list[dict]] = {}
    for impl, length, depth in tqdm(jobs * args.rounds, desc="configs", file=sys.stderr):
        r = run_child(impl, length, depth, args.repeats, args.timeout, args.threads)
        if r:
            runs.setdefault((impl, length, depth), []).append(r)
    # over rounds: the fastest time (the least disturbed by other jobs) and the median peak memory
    results = [
        {
            **rs[0],
            "time_s": min(r["time_s"] for r in rs),
            "peak_mb": float(np.median([r["peak_mb"] for r in rs])),
            "delta_mb": float(np.median([r["delta_mb"] for r in rs])),
            "rounds": len(rs),
        }
        for rs in runs.values()
    ]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    report(results, args)
    return 0


def report(results: list[dict], args: argparse.Namespace) -> None:
    """Tables, ratios and the figure for the measurements `results`."""
    rows = [r for r in results if r["depth"] == 2]
    depth_rows = [r for r in results if r["L"] == args.depth_length]
    print("peak RSS (increase over start) and time, forward + backward, depth 2")
    _table(rows, "L", sorted(set(args.lengths)), args.impls)
    print(f"\nover depth at L = {args.depth_length}")
    _table(depth_rows, "depth", sorted(set(args.depths)), [i for i in DEPTH_IMPLS if i in args.impls])
    print()
    for length in sorted(set(args.lengths)):
        _ratios(rows, length, 2)
    plot(rows, depth_rows, args.depth_length, args.out)


if __name__ == "__main__":
    sys.exit(main())
