"""Speed against the best public implementations of the same mechanisms.

Times forward + backward of a cvattn module and of a peer implementation — ``fightingcv-attention``
(External-Attention-pytorch's package) or ``timm.layers`` — on the same input, in one process, and
reports the ratio (cvattn time / peer time; below 1 means cvattn is faster). Peers are for measurement
only: each lives in its own environment under ``.bench/`` (``./dev bench`` creates them), never in the
project's dependencies. Each pair is configured to compute the same thing (same reduction, kernel, groups);
where a peer's defaults differ, the pair's comment says how they were aligned and what is left different. A
peer with another calling convention (tokens instead of a map, a returned gate, routing weights passed in)
runs behind a thin adapter (``_Adapted``) holding only the glue its own callers would write.
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
import torch.nn.functional as F
from torch import nn

import cvattn

SIZE = 28  # spatial size of the default input; peers that need H, W at construction get it from here


@dataclass(frozen=True)
class Pair:
    """One comparison: our module id, the peer library, and how to build both for ``channels``."""

    id: str
    peer: str  # "fightingcv" or "timm"
    peer_name: str  # import path "module:Class"
    build: Callable[[type, int], tuple[nn.Module, nn.Module]]
    input_shape: Callable[[int], tuple[int, ...]] = lambda c: (8, c, SIZE, SIZE)


def _cls(path: str) -> type:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


class _Adapted(nn.Module):
    """A peer behind a different calling convention: ``forward(x) = call(self, x)`` on an ``(N, C, H, W)`` map
    (``self.peer`` is the peer, ``extra`` modules are registered beside it so that they count and train).

    Only the glue that the peer's own callers would write (token layout, applying a returned gate, routing
    weights computed as the peer library's blocks compute them) goes into ``call``."""

    def __init__(
        self, peer: nn.Module, call: Callable[[nn.Module, torch.Tensor], torch.Tensor], **extra: nn.Module
    ):
        super().__init__()
        self.peer, self.call = peer, call
        for name, module in extra.items():
            self.add_module(name, module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.call(self, x)


def _replace(module: nn.Module, **parts: nn.Module) -> nn.Module:
    """Swap submodules of a peer (dotted paths as ``a__b`` keyword names) to align it with our configuration."""
    for path, part in parts.items():
        *parents, name = path.split("__")
        owner = module
        for parent in parents:
            owner = getattr(owner, parent)
        setattr(owner, name, part)
    return module


def _tokens(attn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Run a token attention ``(N, HW, C) -> (N, HW, C)`` on a map and return a map."""
    t = x.flatten(2).transpose(1, 2)
    return attn(t).transpose(1, 2).reshape(x.shape)


def _timm_condconv(P: type, c: int, experts: int) -> nn.Module:
    """timm's CondConv2d takes the routing weights as an argument; its CondConvResidual block computes them
    as ``sigmoid(Linear(GAP(x)))``, which is what our module does internally."""
    return _Adapted(
        P(c, c, 3, padding=1, bias=True, num_experts=experts),  # timm defaults: bias False, 4 experts
        lambda m, x: m.peer(x, torch.sigmoid(m.routing_fn(F.adaptive_avg_pool2d(x, 1).flatten(1)))),
        routing_fn=nn.Linear(c, experts),
    )


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
        lambda P, c: (
            cvattn.create("epsanet", in_channels=c, out_channels=c),
            P(channel=c, reduction=4, S=4),
        ),
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
    Pair(
        "gather-excite-param",
        "timm",
        "timm.layers:GatherExcite",
        # three stride-2 depthwise 3x3 convs with BN (ReLU between) for extent 8, no MLP, on both sides.
        # timm 1.0.31 cannot build extra_params=True (create_conv2d(..., *dd) passes 'device' as the kernel
        # size): the run reports this pair as skipped until timm fixes it.
        lambda P, c: (
            cvattn.create("gather-excite-param", channels=c, extent=8),
            P(c, extra_params=True, extent=8, use_mlp=False),
        ),
    ),
    Pair(
        "gather-excite-plus",
        "timm",
        "timm.layers:GatherExcite",
        # as gather-excite-param plus the C -> C/16 -> C MLP (1x1 convs with bias) on both sides; same timm bug
        lambda P, c: (
            cvattn.create("gather-excite-plus", channels=c, extent=8),
            P(c, extra_params=True, extent=8, use_mlp=True),
        ),
    ),
    Pair(
        "cbam-channel",
        "timm",
        "timm.layers.cbam:ChannelAttn",
        # timm's MLP has no biases by default; ours has them (the official nn.Linear): mlp_bias=True
        lambda P, c: (
            cvattn.create("cbam-channel", channels=c, reduction=16),
            P(c, rd_ratio=1 / 16, mlp_bias=True),
        ),
    ),
    Pair(
        "cbam-channel",
        "fightingcv",
        FCV + "CBAM:ChannelAttention",
        # the peer returns the gate M_c (CBAMBlock multiplies); its MLP has no biases and cannot be given any
        lambda P, c: (
            cvattn.create("cbam-channel", channels=c, reduction=16),
            _Adapted(P(channel=c, reduction=16), lambda m, x: x * m.peer(x)),
        ),
    ),
    Pair(
        "cbam-spatial",
        "timm",
        "timm.layers.cbam:SpatialAttn",
        # both: 7x7 conv without bias on [max; mean] (timm: [mean; max]), BN, sigmoid gate
        lambda P, c: (cvattn.create("cbam-spatial", channels=c, kernel_size=7), P(kernel_size=7)),
    ),
    Pair(
        "cbam-spatial",
        "fightingcv",
        FCV + "CBAM:SpatialAttention",
        # the peer returns the gate M_s and has no BN (its conv has a bias): ours without norm_layer
        lambda P, c: (
            cvattn.create("cbam-spatial", channels=c, kernel_size=7, norm_layer=None),
            _Adapted(P(kernel_size=7), lambda m, x: x * m.peer(x)),
        ),
    ),
    Pair(
        "coordinate-attention",
        "timm",
        "timm.layers.coord_attn:CoordAttn",
        # timm sizes the bottleneck as C * rd_ratio * 2/3 rounded to 8 and has no conv biases by default;
        # ours: mip = max(8, C / 32) (8 for C = 64) with biases, as the official code
        lambda P, c: (
            cvattn.create("coordinate-attention", channels=c, reduction=32),
            P(c, rd_channels=max(8, c // 32), bias=True),
        ),
    ),
    Pair(
        "sk",
        "timm",
        "timm.layers:SelectiveKernel",
        # timm by default splits the input channels between the paths and reduces to make_divisible(C/16, 8);
        # aligned: no split, d = max(C/16, 32) as ours; both: 3x3 paths of dilation 1 and 2, 32 groups
        lambda P, c: (
            cvattn.create("sk", channels=c, groups=32, reduction=16, min_dim=32),
            P(c, c, kernel_size=[3, 5], groups=32, rd_channels=max(c // 16, 32), split_input=False),
        ),
    ),
    Pair(
        "resnest",
        "timm",
        "timm.layers:SplitAttn",
        # timm has no norm layers by default; ResNeSt (and ours) has BN after the split conv and in the
        # bottleneck. Both: radix 2, cardinality 1, bottleneck max(C * radix / 4, 32)
        lambda P, c: (
            cvattn.create("resnest", in_channels=c, out_channels=c, radix=2, groups=1, reduction=4),
            P(c, c, kernel_size=3, radix=2, groups=1, rd_ratio=1 / 4, norm_layer=nn.BatchNorm2d),
        ),
    ),
    Pair(
        "mixconv",
        "timm",
        "timm.layers:MixedConv2d",
        # depthwise 3/5/7/9 groups, no bias, "same" symmetric padding on both sides
        lambda P, c: (
            cvattn.create("mixconv", in_channels=c, kernel_size=(3, 5, 7, 9)),
            P(c, c, kernel_size=[3, 5, 7, 9], depthwise=True),
        ),
    ),
    Pair(
        "condconv",
        "timm",
        "timm.layers:CondConv2d",
        lambda P, c: (
            cvattn.create("condconv", in_channels=c, out_channels=c, kernel_size=3, padding=1, num_experts=8),
            _timm_condconv(P, c, experts=8),
        ),
    ),
    Pair(
        "condconv",
        "fightingcv",
        "fightingcv_attention.conv.CondConv:CondConv",
        # the peer defaults to K=4 experts (ours and the paper: 8); its routing 1x1 conv has no bias
        lambda P, c: (
            cvattn.create("condconv", in_channels=c, out_channels=c, kernel_size=3, padding=1, num_experts=8),
            P(c, c, 3, 1, padding=1, bias=True, K=8),
        ),
    ),
    Pair(
        "dynamic-conv",
        "fightingcv",
        "fightingcv_attention.conv.DynamicConv:DynamicConv",
        # both: K=4 kernels, attention C -> C/4 -> K, temperature 30, biased conv; the peer's attention layers
        # have no biases
        lambda P, c: (
            cvattn.create("dynamic-conv", in_channels=c, out_channels=c, kernel_size=3, padding=1),
            P(c, c, 3, 1, padding=1, bias=True, K=4, temprature=30, ratio=4),
        ),
    ),
    Pair(
        "mobilenet",
        "timm",
        "timm.layers:SeparableConv2d",
        # timm's plain separable conv has no norm or activation and no biases: ours without BN and ReLU
        lambda P, c: (
            cvattn.create(
                "mobilenet", in_channels=c, out_channels=c, norm_layer=None, act_layer=None, bias=False
            ),
            P(c, c, kernel_size=3),
        ),
    ),
    Pair(
        "mobilenet",
        "fightingcv",
        "fightingcv_attention.conv.DepthwiseSeparableConvolution:DepthwiseSeparableConvolution",
        # the peer: both convs with bias, no norm, no activation: ours configured the same way
        lambda P, c: (
            cvattn.create(
                "mobilenet", in_channels=c, out_channels=c, norm_layer=None, act_layer=None, bias=True
            ),
            P(c, c, kernel_size=3, stride=1, padding=1),
        ),
    ),
    Pair(
        "acnet",
        "fightingcv",
        "fightingcv_attention.rep.acnet:ACNet",
        # training-time branches (3x3, 1x3, 3x1, each with BN) on both sides; the peer ends with a ReLU that
        # the block does not have (the network adds it): removed
        lambda P, c: (
            cvattn.create("acnet", in_channels=c, out_channels=c, kernel_size=3),
            _replace(P(c, c, kernel_size=3), activation=nn.Identity()),
        ),
    ),
    Pair(
        "a2net",
        "fightingcv",
        FCV + "A2Atttention:DoubleAttention",
        # both: c_m = c_n = C / 4, 1x1 convs with bias, a 1x1 conv back to C. Not aligned: the peer has no
        # residual (ours: x + W_z Z, one extra add) and calls F.softmax without dim, which on (N, c_n, HW)
        # normalises over the batch dimension (the paper: over HW for B, over c_n for V); same cost class
        lambda P, c: (
            cvattn.create("a2net", channels=c, c_m=c // 4, c_n=c // 4),
            P(c, c // 4, c // 4, reconstruct=True),
        ),
    ),
    Pair(
        "rest",
        "fightingcv",
        FCV + "EMSA:EMSA",
        # ResT stage-2 configuration on both sides: 2 heads, sr_ratio 4 (depthwise 5x5 stride 4 + LayerNorm),
        # transform on. The peer takes (N, HW, C) tokens as queries, keys and values and needs H, W at
        # construction; its attention dropout defaults to 0.1 (ours 0): dropout=0
        lambda P, c: (
            cvattn.create("rest", channels=c, num_heads=2, sr_ratio=4, apply_transform=True),
            _Adapted(
                P(c, c // 2, c // 2, 2, dropout=0.0, H=SIZE, W=SIZE, ratio=4, apply_transform=True),
                lambda m, x: _tokens(lambda t: m.peer(t, t, t), x),
            ),
        ),
    ),
    Pair(
        "danet-pam",
        "fightingcv",
        FCV + "DANet:PositionAttentionModule",
        # The peer puts a KxK conv in front and uses a full-width single-head attention with an output
        # projection (d_k = d_v = C, fc_o) and dropout 0.1. Aligned with DANet's PAM: conv removed, attention
        # rebuilt with d_k = C/8 and d_v = C, no output projection, no dropout. Left: the peer scales the
        # logits by 1/sqrt(d_k) (DANet: unscaled) and has no gamma-weighted residual
        lambda P, c: (
            cvattn.create("danet-pam", channels=c, reduction=8),
            _Adapted(
                _replace(
                    P(d_model=c, kernel_size=1),
                    cnn=nn.Identity(),
                    pa=_replace(
                        _cls(FCV + "SelfAttention:ScaledDotProductAttention")(c, c // 8, c, 1, dropout=0.0),
                        fc_o=nn.Identity(),
                    ),
                ),
                lambda m, x: m.peer(x).transpose(1, 2).reshape(x.shape),  # peer returns (N, HW, C)
            ),
        ),
    ),
    Pair(
        "danet-cam",
        "fightingcv",
        FCV + "DANet:ChannelAttentionModule",
        # The peer puts a KxK conv in front, ends with an HW x HW linear layer (fc_o) and drops 10% of the
        # attention; it needs H, W at construction. Aligned with DANet's CAM: conv, fc_o and dropout removed.
        # Left: the peer scales the energy by 1/sqrt(HW) where DANet takes max - energy, and has no residual
        lambda P, c: (
            cvattn.create("danet-cam", channels=c),
            _Adapted(
                _replace(
                    P(d_model=c, kernel_size=1, H=SIZE, W=SIZE),
                    cnn=nn.Identity(),
                    pa__fc_o=nn.Identity(),
                    pa__dropout=nn.Identity(),
                ),
                lambda m, x: m.peer(x).reshape(x.shape),  # peer returns (N, C, HW)
            ),
        ),
    ),
    Pair(
        "swish",
        "timm",
        "timm.layers.activations:Swish",
        # timm's Swish is x * sigmoid(x) (Swish-1); ours with a constant beta = 1 (the registry's default
        # configuration learns beta)
        lambda P, c: (cvattn.create("swish", beta=1.0, trainable=False), P()),
    ),
    Pair(
        "mobilenetv3-hard-swish",
        "timm",
        "timm.layers.activations:HardSwish",
        lambda P, c: (cvattn.create("mobilenetv3-hard-swish"), P()),  # both out of place
    ),
    Pair(
        "mobilenetv3-hard-sigmoid",
        "timm",
        "timm.layers.activations:HardSigmoid",
        lambda P, c: (cvattn.create("mobilenetv3-hard-sigmoid"), P()),  # both out of place
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
