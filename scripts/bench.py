"""Speed against the best public implementations of the same mechanisms.

Times forward + backward of a cvattn module and of a peer implementation — ``fightingcv-attention``
(External-Attention-pytorch's package) or ``timm.layers`` — on the same input, in one process, and
reports the ratio (cvattn time / peer time; below 1 means cvattn is faster). Peers are for measurement
only: each lives in its own environment under ``.bench/`` (``./dev bench`` creates them), never in the
project's dependencies. Each pair is configured to compute the same thing (same reduction, kernel, groups).
"""

from __future__ import annotations

import importlib
import json
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

import cvattn


@dataclass(frozen=True)
class Pair:
    """One comparison: our module id, the peer library, and how to build both for ``channels``."""

    id: str
    peer: str  # "fightingcv" or "timm"
    peer_name: str  # import path "module:Class"
    build: Callable[[type, int], tuple[nn.Module, nn.Module]]
    input_shape: Callable[[int], tuple[int, ...]] = lambda c: (8, c, 28, 28)


def _cls(path: str) -> type:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


FCV = "fightingcv_attention.attention."
PAIRS: list[Pair] = [
    Pair(
        "se",
        "fightingcv",
        FCV + "SEAttention:SEAttention",
        lambda P, c: (cvattn.create("se", channels=c), P(channel=c, reduction=16)),
    ),
    Pair(
        "se",
        "timm",
        "timm.layers:SEModule",
        lambda P, c: (cvattn.create("se", channels=c), P(c, rd_channels=c // 16)),
    ),
    Pair(
        "cbam",
        "fightingcv",
        FCV + "CBAM:CBAMBlock",
        lambda P, c: (cvattn.create("cbam", channels=c), P(channel=c, reduction=16, kernel_size=7)),
    ),
    Pair(
        "cbam",
        "timm",
        "timm.layers.cbam:CbamModule",
        lambda P, c: (cvattn.create("cbam", channels=c), P(c, rd_ratio=1 / 16, spatial_kernel_size=7)),
    ),
    Pair(
        "bam",
        "fightingcv",
        FCV + "BAM:BAMBlock",
        # the peer pads its dilated convs for dilation 1 only, so it runs with dia_val=1 (4 in the paper)
        lambda P, c: (cvattn.create("bam", channels=c), P(channel=c, reduction=16, dia_val=1)),
    ),
    Pair(
        "triplet-attention",
        "fightingcv",
        FCV + "TripletAttention:TripletAttention",
        lambda P, c: (cvattn.create("triplet-attention", channels=c), P()),
    ),
    Pair(
        "coordinate-attention",
        "fightingcv",
        FCV + "CoordAttention:CoordAtt",
        lambda P, c: (cvattn.create("coordinate-attention", channels=c), P(c, c, reduction=32)),
    ),
    Pair(
        "eca",
        "fightingcv",
        FCV + "ECAAttention:ECAAttention",
        lambda P, c: (cvattn.create("eca", channels=c), P(kernel_size=3)),
    ),
    Pair(
        "eca", "timm", "timm.layers:EcaModule", lambda P, c: (cvattn.create("eca", channels=c), P(channels=c))
    ),
    Pair(
        "sk",
        "fightingcv",
        FCV + "SKAttention:SKAttention",
        lambda P, c: (
            cvattn.create("sk", channels=c),
            P(channel=c, kernels=[3, 5], reduction=16, group=32, L=32),
        ),
    ),
    Pair(
        "sge",
        "fightingcv",
        FCV + "SGE:SpatialGroupEnhance",
        lambda P, c: (cvattn.create("sge", channels=c, groups=8), P(groups=8)),
    ),
    Pair(
        "sa-net",
        "fightingcv",
        FCV + "ShuffleAttention:ShuffleAttention",
        lambda P, c: (cvattn.create("sa-net", channels=c, groups=8), P(channel=c, G=8)),
    ),
    Pair(
        "epsanet",
        "fightingcv",
        FCV + "PSA:PSA",
        lambda P, c: (cvattn.create("epsanet", in_channels=c, out_channels=c), P(channel=c, reduction=4, S=4)),
    ),
    Pair(
        "ccnet",
        "fightingcv",
        FCV + "CrissCrossAttention:CrissCrossAttention",
        lambda P, c: (cvattn.create("ccnet", channels=c, recurrence=1), P(c)),
    ),
    Pair(
        "gather-excite",
        "timm",
        "timm.layers:GatherExcite",
        lambda P, c: (cvattn.create("gather-excite", channels=c), P(c, extent=0, use_mlp=False)),
    ),
    Pair(
        "non-local",
        "timm",
        "timm.layers:NonLocalAttn",
        lambda P, c: (cvattn.create("non-local", channels=c), P(c, use_scale=False, rd_ratio=1 / 2)),
    ),
    Pair(
        "gcnet",
        "timm",
        "timm.layers:GlobalContext",
        lambda P, c: (
            cvattn.create("gcnet", channels=c),
            P(c, use_attn=True, fuse_add=True, fuse_scale=False, rd_ratio=1 / 16),
        ),
    ),
]


def fwd_bwd_ms(module: nn.Module, x: torch.Tensor, repeats: int = 20, warmup: int = 3) -> float:
    """Median milliseconds of one forward + backward pass (training mode, gradient w.r.t. input too)."""
    module.train()
    times = []
    for i in range(warmup + repeats):
        inp = x.detach().requires_grad_(True)
        start = time.perf_counter()
        out = module(inp)
        out = out[0] if isinstance(out, tuple) else out
        out.float().sum().backward()
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1e3)
        module.zero_grad(set_to_none=True)
    return statistics.median(times)


def available_peer() -> str | None:
    for name, module in (("timm", "timm"), ("fightingcv", "fightingcv_attention")):
        try:
            importlib.import_module(module)
            return name
        except ImportError:
            continue
    return None


def run(
    peer: str,
    ids: list[str] | None = None,
    channels: int = 64,
    repeats: int = 20,
    log: Callable[[str], None] = print,
) -> list[dict]:
    """Time every pair of ``peer`` whose cvattn module is registered (optionally only ``ids``)."""
    registered = set(cvattn.list_modules())
    rows = []
    for pair in PAIRS:
        if pair.peer != peer or pair.id not in registered or (ids and pair.id not in ids):
            continue
        torch.manual_seed(0)
        try:
            ours, theirs = pair.build(_cls(pair.peer_name), channels)
            x = torch.randn(pair.input_shape(channels))
            with torch.no_grad():
                peer_out = theirs.eval()(x)
                same_shape = (
                    ours.eval()(x).shape == (peer_out[0] if isinstance(peer_out, tuple) else peer_out).shape
                )
            t_ours = fwd_bwd_ms(ours, x, repeats)
            t_peer = fwd_bwd_ms(theirs, x, repeats)
        except Exception as exc:  # a peer that cannot run this configuration is reported, not fatal
            log(f"{pair.id:24s} vs {pair.peer_name}: skipped ({type(exc).__name__}: {str(exc)[:120]})")
            continue
        row = {
            "id": pair.id,
            "peer": f"{peer} {pair.peer_name.split(':')[1]}",
            "input": list(x.shape),
            "params_ours": sum(p.numel() for p in ours.parameters()),
            "params_peer": sum(p.numel() for p in theirs.parameters()),
            "ms_ours": round(t_ours, 3),
            "ms_peer": round(t_peer, 3),
            "ratio": round(t_ours / t_peer, 3),
            "same_output_shape": bool(same_shape),
        }
        log(
            f"{pair.id:24s} vs {row['peer']:34s} ours {t_ours:8.2f} ms  peer {t_peer:8.2f} ms  ratio {row['ratio']:.2f}"
        )
        rows.append(row)
    return rows


def provenance() -> dict:
    return {
        "machine": platform.processor() or platform.machine(),
        "cpus": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
    }


def merge_into(path: Path, peer: str, rows: list[dict]) -> None:
    """Store rows of one peer in the results file, keeping the other peer's rows."""
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    fresh = {r["id"] for r in rows}  # a partial run (--only) keeps the other modules' rows
    kept = [r for r in data.get(peer, {}).get("rows", []) if r["id"] not in fresh]
    data[peer] = {"provenance": provenance(), "rows": sorted(kept + rows, key=lambda r: r["id"])}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def markdown_table(path: Path) -> str:
    data = json.loads(path.read_text(encoding="utf-8"))
    lines = [
        "| module | peer | input | params (ours / peer) | ms ours | ms peer | ratio |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for peer in sorted(data):
        for r in data[peer]["rows"]:
            lines.append(
                f"| {r['id']} | {r['peer']} | {'x'.join(map(str, r['input']))} | {r['params_ours']} / {r['params_peer']} "
                f"| {r['ms_ours']} | {r['ms_peer']} | {r['ratio']} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run inside a peer environment: ``python -m scripts.bench --peer timm --out FILE``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m scripts.bench")
    parser.add_argument("--peer", choices=["timm", "fightingcv"], required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    merge_into(args.out, args.peer, run(args.peer, args.only, repeats=args.repeats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
