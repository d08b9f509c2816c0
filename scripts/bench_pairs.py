"""The pairs of the benchmark matrix: each cvattn module beside the same mechanism in timm or fightingcv-attention.

A :class:`Pair` says how to build both sides for ``C`` channels on ``H x W`` maps so that they compute the same
thing (same reduction, kernel, groups, heads, number of passes), and its ``alignment`` says, in English and
Chinese for the Benchmarks page, how they were aligned and what is left different. A peer with another calling
convention (tokens instead of a map, a returned gate, routing weights passed in, an attention reachable through
its block) runs behind a thin adapter (:class:`_Adapted`) holding only the glue that its own callers or block
write. ``applies`` gives the reason why an input size cannot be run (a peer that takes only some H and W).

:data:`NOT_COUNTERPARTS` records the peer classes that were considered and are not the same mechanism as the
cvattn module of a similar name (or have none), with the reason: the audit behind the list of pairs.

Peer packages are imported only when a pair is built (``scripts.bench`` runs in the peer environments).
"""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

import cvattn

Shape = tuple[int, int, int, int]


def text(en: str, zh: str) -> dict[str, str]:
    """A text the Benchmarks page shows, in English and Chinese."""
    return {"en": en, "zh": zh}


def _every_size(shape: Shape) -> dict[str, str] | None:
    return None


@dataclass(frozen=True)
class Pair:
    """One comparison: our module id, the peer library and class, how to build both, and how they are aligned.

    ``build(P, c, (h, w))`` returns ``(ours, peer)`` for ``c`` channels on ``h x w`` maps (``P`` is the peer
    class); ``alignment`` says what was configured so that both compute the same thing and what differs;
    ``applies(shape)`` returns ``None`` or the reason (en, zh) why an input size cannot be run.
    """

    id: str
    peer: str  # "fightingcv" or "timm"
    peer_name: str  # import path "module:Class"
    build: Callable[[type, int, tuple[int, int]], tuple[nn.Module, nn.Module]]
    alignment: dict[str, str] = field(default_factory=dict)
    applies: Callable[[Shape], dict[str, str] | None] = _every_size
    env: str | None = None  # the environment it runs in, when not the peer's own (a peer that imports timm)

    @property
    def environment(self) -> str:
        return self.env or self.peer

    @property
    def peer_class(self) -> str:
        return self.peer_name.split(":")[1]

    @property
    def key(self) -> str:
        """Unique name of the pair: ``<id> vs <peer> <Class>``."""
        return f"{self.id} vs {self.peer} {self.peer_class}"


def _cls(path: str) -> type:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


class _Adapted(nn.Module):
    """A peer behind a different calling convention: ``forward(x) = call(self, x)`` on an ``(N, C, H, W)`` map
    (``self.peer`` is the peer, ``extra`` modules are registered beside it so that they count and train).

    Only the glue that the peer's own callers would write (token layout, applying a returned gate, routing
    weights computed as the peer library's blocks compute them) goes into ``call``."""

    def __init__(
        self,
        peer: nn.Module,
        call: Callable[[nn.Module, torch.Tensor], torch.Tensor],
        **extra: nn.Module | nn.Parameter,
    ):
        super().__init__()
        self.peer, self.call = peer, call
        for name, module in extra.items():
            setattr(self, name, module)  # a module or a parameter

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


def _channels_last(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Run a layer on ``(N, H, W, C)`` and return ``(N, C, H, W)``."""
    return fn(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def _divisible(*divisors: int, why: dict[str, str]) -> Callable[[Shape], dict[str, str] | None]:
    """``applies`` for a peer that needs H and W divisible by each of ``divisors``."""

    def check(shape: Shape) -> dict[str, str] | None:
        h, w = shape[2:]
        if all(h % d == 0 and w % d == 0 for d in divisors):
            return None
        return why

    return check


def _timm_condconv(P: type, c: int, experts: int) -> nn.Module:
    """timm's CondConv2d takes the routing weights as an argument; its CondConvResidual block computes them
    as ``sigmoid(Linear(GAP(x)))``, which is what our module does internally."""
    return _Adapted(
        P(c, c, 3, padding=1, bias=True, num_experts=experts),  # timm defaults: bias False, 4 experts
        lambda m, x: m.peer(x, torch.sigmoid(m.routing_fn(F.adaptive_avg_pool2d(x, 1).flatten(1)))),
        routing_fn=nn.Linear(c, experts),
    )


def _log2(n: int) -> int:
    return int(math.log2(n))


def _attention_only(block: nn.Module) -> nn.Module:
    """A timm transformer block without its two LayerNorms and its MLP: only the attention and its residual."""
    return _replace(block, norm1=nn.Identity(), norm2=nn.Identity(), mlp=nn.Identity())


def _swin_peer(P: type, c: int, hw: tuple[int, int], shift: int = 0) -> nn.Module:
    """timm's Swin (V1 or V2) window attention for C channels in 7x7 windows, heads of 32 channels: the block's
    ``_attn`` on ``(N, H, W, C)`` (its own window partition, roll and mask), norms and MLP removed."""
    kwargs = {"shift_size": shift} if shift else {}
    block = _attention_only(P(c, hw, num_heads=c // 32, window_size=7, **kwargs))
    return _Adapted(block, lambda m, x: _channels_last(m.peer._attn, x))


def _maxvit_peer(P: type, c: int, partition: str) -> nn.Module:
    """timm's MaxViT attention of one partition: its PartitionAttentionCl without the norms and the MLP."""
    cfg = _cls("timm.models.maxxvit:MaxxVitTransformerCfg")(dim_head=32, window_size=(7, 7), grid_size=(7, 7))
    block = _attention_only(P(c, partition_type=partition, cfg=cfg))
    return _Adapted(block, lambda m, x: _channels_last(m.peer._partition_attn, x))


def _gcvit_peer(P: type, c: int, hw: tuple[int, int]) -> nn.Module:
    """timm's GC ViT global attention: the stage's query generator (FeatureBlock) and a block's windowed
    attention with global queries (its LayerNorms and MLP removed)."""
    block = _attention_only(P(c, hw, num_heads=c // 32, window_size=7, use_global=True))
    queries = _cls("timm.models.gcvit:FeatureBlock")(c, _log2(hw[0] // 7))
    return _Adapted(
        block,
        lambda m, x: _channels_last(lambda t: m.peer._window_attn(t, m.queries(x).permute(0, 2, 3, 1)), x),
        queries=queries,
    )


def _eca_fightingcv(P: type, c: int) -> tuple[nn.Module, nn.Module]:
    """fightingcv's ECA takes the kernel size as an argument: give it the adaptive size ours computes."""
    ours = cvattn.create("eca", channels=c)
    return ours, P(kernel_size=ours.kernel_size)


def _timm_mobileone(P: type, c: int, branches: int) -> nn.Module:
    """timm's MobileOne stage unit: a depthwise 3x3 MobileOneBlock then a pointwise 1x1 one, as its
    ``_mobileone_bcfg`` stacks them (group_size 1, then a dense 1x1)."""
    return nn.Sequential(
        P(c, c, kernel_size=3, group_size=1, num_conv_branches=branches),
        P(c, c, kernel_size=1, num_conv_branches=branches),
    )


def _as_danet(module_id: str, danet_id: str, **kwargs: Any) -> Callable[..., tuple[nn.Module, nn.Module]]:
    """The build of a module that is a DANet module (ABD-Net's CAM and PAM subclass the package's DANet
    ones): ours as ``module_id``, the peer exactly as the ``danet_id`` pair aligns it."""

    def build(P: type, c: int, hw: tuple[int, int]) -> tuple[nn.Module, nn.Module]:
        base = next(p for p in PAIRS if p.id == danet_id and p.peer == "fightingcv")
        _, peer = base.build(P, c, hw)
        return cvattn.create(module_id, channels=c, **kwargs), peer

    return build


FCV = "fightingcv_attention.attention."
PAIRS: list[Pair] = [
    # ------------------------------------------------------------------ channel, spatial and hybrid attention
    Pair(
        "se",
        "fightingcv",
        FCV + "SEAttention:SEAttention",
        lambda P, c, hw: (cvattn.create("se", channels=c), P(channel=c, reduction=16)),
        text(
            "Both: global average pool, C -> C/16 -> C with ReLU, sigmoid gate. Left: the peer's linears have no "
            "biases (it has no option for them); ours has them, as the paper's fully connected layers.",
            "两者：全局平均池化，C -> C/16 -> C 并接 ReLU，sigmoid 门控。剩余差异：对照实现的线性层没有偏置（也无法设置）；"
            "我们的有偏置，与论文的全连接层一致。",
        ),
    ),
    Pair(
        "se",
        "timm",
        "timm.layers:SEModule",
        lambda P, c, hw: (cvattn.create("se", channels=c), P(c, rd_channels=c // 16)),
        text(
            "Both: global average pool, C -> C/16 -> C with biases and ReLU, sigmoid gate (timm's bottleneck set "
            "to C/16 explicitly: its default rounds to a multiple of 8).",
            "两者：全局平均池化，C -> C/16 -> C（带偏置）并接 ReLU，sigmoid 门控（timm 的瓶颈宽度显式设为 C/16：其默认会"
            "取整到 8 的倍数）。",
        ),
    ),
    Pair(
        "cbam",
        "fightingcv",
        FCV + "CBAM:CBAMBlock",
        lambda P, c, hw: (
            cvattn.create("cbam", channels=c, reduction=16, kernel_size=7, norm_layer=None),
            P(channel=c, reduction=16, kernel_size=7),
        ),
        text(
            "Both: channel attention (shared C -> C/16 -> C MLP on the average- and max-pooled descriptors), then "
            "spatial attention (a 7x7 conv on [max; mean], sigmoid; the peer's default kernel is 49). The peer has "
            "no BatchNorm in the spatial branch: ours built without it. Left: the peer adds the input back (one "
            "extra add), its MLP has no biases and its 7x7 conv has one.",
            "两者：先做通道注意力（在平均池化与最大池化描述子上共享 C -> C/16 -> C 的 MLP），再做空间注意力（对 [max; mean] "
            "做 7x7 卷积，sigmoid；对照实现默认卷积核为 49）。对照实现的空间分支没有 BatchNorm：我们的模块也不带。剩余差异："
            "对照实现最后加回输入（多一次加法），其 MLP 无偏置，而 7x7 卷积有偏置。",
        ),
    ),
    Pair(
        "cbam",
        "timm",
        "timm.layers.cbam:CbamModule",
        lambda P, c, hw: (
            cvattn.create("cbam", channels=c, reduction=16, kernel_size=7),
            P(c, rd_ratio=1 / 16, spatial_kernel_size=7, mlp_bias=True),
        ),
        text(
            "Both: channel attention with a C -> C/16 -> C MLP with biases (timm's mlp_bias=True; its default has "
            "none), then a 7x7 conv without bias, BatchNorm and sigmoid on the channel-pooled maps.",
            "两者：通道注意力使用带偏置的 C -> C/16 -> C MLP（timm 设 mlp_bias=True；其默认不带偏置），之后在通道池化图上做"
            "无偏置的 7x7 卷积、BatchNorm 与 sigmoid。",
        ),
    ),
    Pair(
        "cbam-channel",
        "timm",
        "timm.layers.cbam:ChannelAttn",
        lambda P, c, hw: (
            cvattn.create("cbam-channel", channels=c, reduction=16),
            P(c, rd_ratio=1 / 16, mlp_bias=True),
        ),
        text(
            "Both: a shared C -> C/16 -> C MLP with biases (timm's mlp_bias=True; ours as the official nn.Linear) on "
            "the average- and max-pooled descriptors, summed, sigmoid gate.",
            "两者：在平均池化与最大池化描述子上共享一个带偏置的 C -> C/16 -> C MLP（timm 设 mlp_bias=True；我们与官方的 "
            "nn.Linear 一致），两路相加后 sigmoid 门控。",
        ),
    ),
    Pair(
        "cbam-channel",
        "fightingcv",
        FCV + "CBAM:ChannelAttention",
        lambda P, c, hw: (
            cvattn.create("cbam-channel", channels=c, reduction=16),
            _Adapted(P(channel=c, reduction=16), lambda m, x: x * m.peer(x)),
        ),
        text(
            "Both: a shared C -> C/16 -> C MLP on the average- and max-pooled descriptors, sigmoid; the peer returns "
            "the gate, which the adapter multiplies as its CBAMBlock does. Left: the peer's MLP has no biases and "
            "cannot be given any.",
            "两者：在平均池化与最大池化描述子上共享 C -> C/16 -> C 的 MLP，sigmoid；对照实现返回门控值，适配器像其 CBAMBlock "
            "那样把它乘到输入上。剩余差异：对照实现的 MLP 没有偏置，也无法加上。",
        ),
    ),
    Pair(
        "cbam-spatial",
        "timm",
        "timm.layers.cbam:SpatialAttn",
        lambda P, c, hw: (cvattn.create("cbam-spatial", channels=c, kernel_size=7), P(kernel_size=7)),
        text(
            "Both: a 7x7 conv without bias on the two channel-pooled maps ([max; mean], timm: [mean; max]), "
            "BatchNorm, sigmoid gate.",
            "两者：在两张通道池化图（[max; mean]，timm 为 [mean; max]）上做无偏置的 7x7 卷积，BatchNorm，sigmoid 门控。",
        ),
    ),
    Pair(
        "cbam-spatial",
        "fightingcv",
        FCV + "CBAM:SpatialAttention",
        lambda P, c, hw: (
            cvattn.create("cbam-spatial", channels=c, kernel_size=7, norm_layer=None),
            _Adapted(P(kernel_size=7), lambda m, x: x * m.peer(x)),
        ),
        text(
            "Both: a 7x7 conv on [max; mean], sigmoid; the peer has no BatchNorm, so ours is built without it, and "
            "it returns the gate, which the adapter multiplies. Left: the peer's conv has a bias.",
            "两者：对 [max; mean] 做 7x7 卷积，sigmoid；对照实现没有 BatchNorm，我们的模块也不带，它返回门控值，由适配器乘到"
            "输入上。剩余差异：对照实现的卷积带偏置。",
        ),
    ),
    Pair(
        "bam",
        "fightingcv",
        FCV + "BAM:BAMBlock",
        lambda P, c, hw: (
            cvattn.create("bam", channels=c, reduction=16, dilation=1, num_dilated=3),
            P(channel=c, reduction=16, dia_val=1),
        ),
        text(
            "Spatial branch alike: 1x1 to C/16, three 3x3 convs, 1x1 to one map, BN and ReLU between; dilation 1 "
            "on both sides (the paper: 4), because the peer pads its dilated convs correctly only for dilation 1, "
            "and ours built with three convs as the peer (the paper: two). Both: (1 + sigmoid(channel + spatial)) "
            "* x. Left: the peer's channel branch has three hidden C/16 layers with BatchNorm1d, ours one "
            "(the paper's).",
            "空间分支对齐：1x1 降到 C/16，三个 3x3 卷积，1x1 得到一张图，中间接 BN 与 ReLU；两边的膨胀率都取 1（论文为 4），"
            "因为对照实现只在膨胀率为 1 时填充正确；我们的模块按对照实现取三个卷积（论文为两个）。两者：(1 + sigmoid(通道 + "
            "空间)) * x。剩余差异：对照实现的通道分支有三个带 BatchNorm1d 的 C/16 隐藏层，我们只有一个（与论文一致）。",
        ),
    ),
    Pair(
        "triplet-attention",
        "fightingcv",
        FCV + "TripletAttention:TripletAttention",
        lambda P, c, hw: (cvattn.create("triplet-attention", channels=c, kernel_size=7), P()),
        text(
            "Both: three branches (C-H, C-W and H-W), each a Z-pool, a 7x7 conv without bias, BatchNorm and a "
            "sigmoid gate, averaged.",
            "两者：三个分支（C-H、C-W 与 H-W），每个分支为 Z-pool、无偏置的 7x7 卷积、BatchNorm 与 sigmoid 门控，三者取平均。",
        ),
    ),
    Pair(
        "coordinate-attention",
        "fightingcv",
        FCV + "CoordAttention:CoordAtt",
        lambda P, c, hw: (
            cvattn.create("coordinate-attention", channels=c, reduction=32),
            P(c, c, reduction=32),
        ),
        text(
            "Both (the official code): pooling along H and along W, a shared 1x1 conv to max(8, C/32) with BN and "
            "h-swish, one 1x1 conv and sigmoid per direction.",
            "两者（即官方代码）：分别沿 H 与 W 池化，共享的 1x1 卷积降到 max(8, C/32) 并接 BN 与 h-swish，每个方向各一个 1x1 "
            "卷积与 sigmoid。",
        ),
    ),
    Pair(
        "coordinate-attention",
        "timm",
        "timm.layers.coord_attn:CoordAttn",
        lambda P, c, hw: (
            cvattn.create("coordinate-attention", channels=c, reduction=32),
            P(c, rd_channels=max(8, c // 32), bias=True),
        ),
        text(
            "Both: the official structure with the bottleneck max(8, C/32) and conv biases (timm sizes it as "
            "C * rd_ratio * 2/3 rounded to 8 and drops the biases by default: both set explicitly).",
            "两者：官方结构，瓶颈宽度 max(8, C/32)，卷积带偏置（timm 默认按 C * rd_ratio * 2/3 取整到 8 且不带偏置：两项均"
            "显式设置）。",
        ),
    ),
    Pair(
        "eca",
        "fightingcv",
        FCV + "ECAAttention:ECAAttention",
        lambda P, c, hw: _eca_fightingcv(P, c),
        text(
            "Both: global average pool, a 1-D conv across channels with the adaptive kernel of the paper "
            "(|log2(C)/2 + 1/2| rounded to odd: 3, 5, 5 here; the peer takes it as an argument), sigmoid. Left: "
            "the peer's conv has a bias.",
            "两者：全局平均池化，跨通道的一维卷积，卷积核按论文自适应取值（|log2(C)/2 + 1/2| 取奇数：这里为 3、5、5；对照实现"
            "通过参数传入），sigmoid。剩余差异：对照实现的卷积带偏置。",
        ),
    ),
    Pair(
        "eca",
        "timm",
        "timm.layers:EcaModule",
        lambda P, c, hw: (cvattn.create("eca", channels=c), P(channels=c)),
        text(
            "Both: global average pool, a bias-free 1-D conv across channels with the paper's adaptive kernel "
            "(gamma 2, b 1), sigmoid.",
            "两者：全局平均池化，跨通道的无偏置一维卷积，卷积核按论文自适应取值（gamma 2、b 1），sigmoid。",
        ),
    ),
    Pair(
        "gather-excite",
        "timm",
        "timm.layers:GatherExcite",
        lambda P, c, hw: (cvattn.create("gather-excite", channels=c), P(c, extent=0, use_mlp=False)),
        text(
            "Both: the parameter-free GE-theta-minus with global extent: the average over the map gates the "
            "channels through a sigmoid.",
            "两者：全局范围、无参数的 GE-theta-minus：用整张图的平均值经 sigmoid 门控各通道。",
        ),
    ),
    Pair(
        "gather-excite-param",
        "timm",
        "timm.layers:GatherExcite",
        lambda P, c, hw: (
            cvattn.create("gather-excite-param", channels=c, extent=8),
            P(c, extra_params=True, extent=8, use_mlp=False),
        ),
        text(
            "Both: three stride-2 depthwise 3x3 convs with BN (ReLU between) for extent 8, no MLP. timm 1.0.31 "
            "cannot build extra_params=True (create_conv2d(..., *dd) passes 'device' as the kernel size): "
            "recorded as not run until timm fixes it.",
            "两者：范围为 8 时三个步长 2 的 3x3 深度卷积并接 BN（中间 ReLU），不带 MLP。timm 1.0.31 无法构建 "
            "extra_params=True（create_conv2d(..., *dd) 把 'device' 当作卷积核大小传入）：在 timm 修复之前记录为未运行。",
        ),
    ),
    Pair(
        "gather-excite-plus",
        "timm",
        "timm.layers:GatherExcite",
        lambda P, c, hw: (
            cvattn.create("gather-excite-plus", channels=c, extent=8),
            P(c, extra_params=True, extent=8, use_mlp=True),
        ),
        text(
            "As gather-excite-param plus the C -> C/16 -> C MLP (1x1 convs with bias) on both sides; the same "
            "timm bug keeps it from being built.",
            "与 gather-excite-param 相同，两边再加 C -> C/16 -> C 的 MLP（带偏置的 1x1 卷积）；同一个 timm 缺陷使其无法构建。",
        ),
    ),
    Pair(
        "sge",
        "fightingcv",
        FCV + "SGE:SpatialGroupEnhance",
        lambda P, c, hw: (cvattn.create("sge", channels=c, groups=8), P(groups=8)),
        text(
            "Both: 8 groups, each position's similarity to the group's average feature, normalised over the map, "
            "a learned scale and shift per group, sigmoid gate.",
            "两者：分 8 组，每个位置与组内平均特征的相似度在整张图上归一化，每组一对可学习的缩放与平移，sigmoid 门控。",
        ),
    ),
    Pair(
        "sa-net",
        "fightingcv",
        FCV + "ShuffleAttention:ShuffleAttention",
        lambda P, c, hw: (cvattn.create("sa-net", channels=c, groups=8), P(channel=c, G=8)),
        text(
            "Both: 8 groups, each split into a channel half (GAP, per-channel scale and shift, sigmoid) and a "
            "spatial half (GroupNorm, per-channel scale and shift, sigmoid), then a channel shuffle.",
            "两者：分 8 组，每组再分成通道一半（GAP、逐通道缩放与平移、sigmoid）与空间一半（GroupNorm、逐通道缩放与平移、"
            "sigmoid），最后通道混洗。",
        ),
    ),
    Pair(
        "gcnet",
        "timm",
        "timm.layers:GlobalContext",
        lambda P, c, hw: (
            cvattn.create("gcnet", channels=c),
            P(c, use_attn=True, fuse_add=True, fuse_scale=False, rd_ratio=1 / 16),
        ),
        text(
            "Both: softmax attention pooling by a 1x1 conv, a C -> C/16 -> C transform with LayerNorm and ReLU, "
            "fused by addition (timm: fuse_add=True, fuse_scale=False).",
            "两者：由 1x1 卷积给出 softmax 注意力池化，经 C -> C/16 -> C 变换（带 LayerNorm 与 ReLU），以相加方式融合（timm："
            "fuse_add=True，fuse_scale=False）。",
        ),
    ),
    # ------------------------------------------------------------------ self-attention and non-local
    Pair(
        "non-local",
        "timm",
        "timm.layers:NonLocalAttn",
        lambda P, c, hw: (
            cvattn.create("non-local", channels=c, sub_sample=False, use_scale=False),
            P(c, use_scale=False, rd_ratio=1 / 2),
        ),
        text(
            "Both: embedded-Gaussian non-local block over all H*W positions with theta, phi, g of C/2 channels, "
            "unscaled logits, W_z with BatchNorm and the residual. timm's NonLocalAttn has no key/value "
            "sub-sampling, so ours is built without its 2x2 max-pool (sub_sample=False; the official default "
            "pools) and without its logit scale (timm's scale option uses C^-0.5, ours (C/2)^-0.5: both off).",
            "两者：嵌入高斯形式的非局部块，在全部 H*W 个位置上计算，theta、phi、g 为 C/2 通道，logits 不缩放，W_z 接 "
            "BatchNorm 并加残差。timm 的 NonLocalAttn 不对键和值下采样，所以我们的模块也去掉 2x2 最大池化"
            "（sub_sample=False；官方默认会池化），并关闭 logits 缩放（timm 的缩放为 C^-0.5，我们的为 (C/2)^-0.5：两边都关闭）。",
        ),
    ),
    Pair(
        "ccnet",
        "fightingcv",
        FCV + "CrissCrossAttention:CrissCrossAttention",
        lambda P, c, hw: (
            cvattn.create("ccnet", channels=c, recurrence=2),
            _Adapted(P(c), lambda m, x: m.peer(m.peer(x))),
        ),
        text(
            "Both: recurrent criss-cross attention with R = 2 passes of the same weights (the paper's RCCA): ours "
            "with recurrence=2, the peer's single CrissCrossAttention module applied twice, as CCNet's RCCA head "
            "loops over it. Queries and keys of C/8, values of C, gamma-weighted residual.",
            "两者：共享权重、R = 2 次的循环十字交叉注意力（论文中的 RCCA）：我们的模块设 recurrence=2，对照实现的单个 "
            "CrissCrossAttention 模块连续调用两次，与 CCNet 的 RCCA 头循环调用它的方式相同。查询与键为 C/8，值为 C，"
            "残差乘以 gamma。",
        ),
    ),
    Pair(
        "a2net",
        "fightingcv",
        FCV + "A2Atttention:DoubleAttention",
        lambda P, c, hw: (
            cvattn.create("a2net", channels=c, c_m=c // 4, c_n=c // 4),
            P(c, c // 4, c // 4, reconstruct=True),
        ),
        text(
            "Both: c_m = c_n = C/4, 1x1 convs with bias, a 1x1 conv back to C. Not aligned: the peer has no "
            "residual (ours: x + W_z Z, one extra add) and calls F.softmax without dim, which on (N, c_n, HW) "
            "normalises over the batch (the paper: over HW for B, over c_n for V); same cost class.",
            "两者：c_m = c_n = C/4，1x1 卷积带偏置，最后 1x1 卷积回到 C。未对齐之处：对照实现没有残差（我们为 x + W_z Z，"
            "多一次加法），且调用 F.softmax 时未指定 dim，在 (N, c_n, HW) 上实际是沿 batch 维归一化（论文：B 沿 HW、V 沿 "
            "c_n）；计算量同一量级。",
        ),
    ),
    Pair(
        "rest",
        "fightingcv",
        FCV + "EMSA:EMSA",
        lambda P, c, hw: (
            cvattn.create("rest", channels=c, num_heads=2, sr_ratio=4, apply_transform=True),
            _Adapted(
                P(c, c // 2, c // 2, 2, dropout=0.0, H=hw[0], W=hw[1], ratio=4, apply_transform=True),
                lambda m, x: _tokens(lambda t: m.peer(t, t, t), x),
            ),
        ),
        text(
            "ResT stage-2 configuration on both sides: 2 heads, keys and values shrunk by a depthwise 5x5 stride-4 "
            "conv and LayerNorm, the attention transform on. The peer takes (N, HW, C) tokens as queries, keys "
            "and values and H, W at construction; its attention dropout (default 0.1) set to 0 as ours.",
            "两边都用 ResT 第 2 阶段的配置：2 个头，键和值经 5x5、步长 4 的深度卷积与 LayerNorm 缩减，开启注意力变换。对照实现"
            "以 (N, HW, C) token 作为查询、键和值，并在构建时需要 H、W；其注意力 dropout（默认 0.1）设为 0，与我们一致。",
        ),
    ),
    Pair(
        "danet-pam",
        "fightingcv",
        FCV + "DANet:PositionAttentionModule",
        lambda P, c, hw: (
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
        text(
            "The peer puts a KxK conv in front and uses a full-width single-head attention with an output "
            "projection (d_k = d_v = C) and dropout 0.1. Aligned with DANet's PAM: conv removed, attention "
            "rebuilt with d_k = C/8 and d_v = C, no output projection, no dropout. Left: the peer scales the "
            "logits by 1/sqrt(d_k) (DANet: unscaled) and has no gamma-weighted residual.",
            "对照实现在前面加了一个 KxK 卷积，并使用全宽度、带输出投影的单头注意力（d_k = d_v = C）及 0.1 的 dropout。按 "
            "DANet 的 PAM 对齐：去掉卷积，注意力重建为 d_k = C/8、d_v = C，无输出投影，无 dropout。剩余差异：对照实现把 "
            "logits 乘以 1/sqrt(d_k)（DANet 不缩放），也没有乘 gamma 的残差。",
        ),
    ),
    Pair(
        "danet-cam",
        "fightingcv",
        FCV + "DANet:ChannelAttentionModule",
        lambda P, c, hw: (
            cvattn.create("danet-cam", channels=c),
            _Adapted(
                _replace(
                    P(d_model=c, kernel_size=1, H=hw[0], W=hw[1]),
                    cnn=nn.Identity(),
                    pa__fc_o=nn.Identity(),
                    pa__dropout=nn.Identity(),
                ),
                # peer returns (N, C, HW); DANet's residual with a learned scale, which the peer leaves out
                lambda m, x: x + m.gamma * m.peer(x).reshape(x.shape),
                gamma=nn.Parameter(torch.full((1,), 0.1)),
            ),
        ),
        text(
            "The peer puts a KxK conv in front, ends with an HW x HW linear layer (fc_o) and drops 10% of the "
            "attention; it needs H, W at construction, and it has no residual. Aligned with DANet's CAM: conv, "
            "fc_o and dropout removed, and DANet's residual x + gamma * out (a learned scalar gamma) added around "
            "it. Left: the peer scales the energy by 1/sqrt(HW) where DANet takes max - energy (one element-wise "
            "pass over the C x C map either way).",
            "对照实现在前面加了一个 KxK 卷积，最后接一个 HW x HW 的线性层（fc_o），并对注意力做 10% 的 dropout；构建时需要 "
            "H、W，且没有残差。按 DANet 的 CAM 对齐：去掉卷积、fc_o 与 dropout，并在外面补上 DANet 的残差 x + gamma * out"
            "（gamma 为可学习的标量）。剩余差异：对照实现把能量乘以 1/sqrt(HW)，而 DANet 取 max - energy（两者都是在 C x C "
            "的矩阵上做一次逐元素运算）。",
        ),
    ),
    # ------------------------------------------------------------------ branch and kernel selection, convolutions
    Pair(
        "sk",
        "fightingcv",
        FCV + "SKAttention:SKAttention",
        lambda P, c, hw: (
            cvattn.create("sk", channels=c, groups=32, reduction=16, min_dim=32),
            P(channel=c, kernels=[3, 5], reduction=16, group=32, L=32),
        ),
        text(
            "Both: two paths of grouped convs (32 groups) with BN and ReLU, fused by sum, GAP, d = max(C/16, 32), a "
            "softmax over the paths per channel. Not aligned in cost: the peer has no dilation, so its second "
            "path is a true 5x5 conv (25/9 of the work of ours, the paper's 3x3 with dilation 2), and its fuse "
            "layer is a plain linear without BN and ReLU.",
            "两者：两条分组卷积路径（32 组）并接 BN 与 ReLU，相加融合，GAP，d = max(C/16, 32)，在路径之间逐通道 softmax。"
            "计算量未对齐：对照实现不支持膨胀卷积，第二条路径是真正的 5x5 卷积（工作量是我们的 25/9 倍，我们与论文一样用膨胀率 "
            "2 的 3x3），其融合层是不带 BN 与 ReLU 的普通线性层。",
        ),
    ),
    Pair(
        "sk",
        "timm",
        "timm.layers:SelectiveKernel",
        lambda P, c, hw: (
            cvattn.create("sk", channels=c, groups=32, reduction=16, min_dim=32),
            P(c, c, kernel_size=[3, 5], groups=32, rd_channels=max(c // 16, 32), split_input=False),
        ),
        text(
            "Both: 3x3 paths of dilation 1 and 2 (timm turns the 5 into a dilated 3x3 as the paper), 32 groups, "
            "BN and ReLU, d = max(C/16, 32). timm by default splits the input channels between the paths and "
            "reduces to make_divisible(C/16, 8): both set to ours (split_input=False, rd_channels).",
            "两者：膨胀率为 1 和 2 的 3x3 路径（timm 与论文一样把 5 换成膨胀 3x3），32 组，BN 与 ReLU，d = max(C/16, 32)。"
            "timm 默认把输入通道分给各路径，并把瓶颈取为 make_divisible(C/16, 8)：两项都按我们的设置（split_input=False、"
            "rd_channels）。",
        ),
    ),
    Pair(
        "resnest",
        "timm",
        "timm.layers:SplitAttn",
        lambda P, c, hw: (
            cvattn.create("resnest", in_channels=c, out_channels=c, radix=2, groups=1, reduction=4),
            P(c, c, kernel_size=3, radix=2, groups=1, rd_ratio=1 / 4, norm_layer=nn.BatchNorm2d),
        ),
        text(
            "Both: radix 2, cardinality 1, a 3x3 split conv, bottleneck max(C * radix / 4, 32), softmax over the "
            "splits; timm has no norm layers by default, ResNeSt (and ours) has BN after the split conv and in "
            "the bottleneck: timm built with BatchNorm2d.",
            "两者：radix 2，基数 1，3x3 的分裂卷积，瓶颈 max(C * radix / 4, 32)，在各分裂之间 softmax；timm 默认没有归一化"
            "层，而 ResNeSt（以及我们）在分裂卷积后和瓶颈中都有 BN：timm 以 BatchNorm2d 构建。",
        ),
    ),
    Pair(
        "mixconv",
        "timm",
        "timm.layers:MixedConv2d",
        lambda P, c, hw: (
            cvattn.create("mixconv", in_channels=c, kernel_size=(3, 5, 7, 9)),
            P(c, c, kernel_size=[3, 5, 7, 9], depthwise=True),
        ),
        text(
            "Both: the channels split into four groups convolved depthwise with 3, 5, 7 and 9 kernels, no bias, "
            "symmetric 'same' padding.",
            "两者：通道分成四组，分别用 3、5、7、9 的卷积核做深度卷积，无偏置，对称的 'same' 填充。",
        ),
    ),
    Pair(
        "condconv",
        "timm",
        "timm.layers:CondConv2d",
        lambda P, c, hw: (
            cvattn.create("condconv", in_channels=c, out_channels=c, kernel_size=3, padding=1, num_experts=8),
            _timm_condconv(P, c, experts=8),
        ),
        text(
            "Both: 8 expert 3x3 kernels with bias mixed per example (timm defaults: no bias, 4 experts) by routing "
            "weights sigmoid(Linear(GAP(x))); timm's CondConv2d takes the weights as an argument, which the adapter "
            "computes as timm's CondConvResidual block does.",
            "两者：8 个带偏置的 3x3 专家卷积核按样本混合（timm 默认：无偏置、4 个专家），路由权重为 sigmoid(Linear(GAP(x)))；"
            "timm 的 CondConv2d 以参数形式接收路由权重，适配器按 timm 的 CondConvResidual 块的方式计算它们。",
        ),
    ),
    Pair(
        "condconv",
        "fightingcv",
        "fightingcv_attention.conv.CondConv:CondConv",
        lambda P, c, hw: (
            cvattn.create("condconv", in_channels=c, out_channels=c, kernel_size=3, padding=1, num_experts=8),
            P(c, c, 3, 1, padding=1, bias=True, K=8),
        ),
        text(
            "Both: 8 expert 3x3 kernels with bias (the peer defaults to 4), sigmoid routing from the pooled input. "
            "Left: the peer's routing 1x1 conv has no bias.",
            "两者：8 个带偏置的 3x3 专家卷积核（对照实现默认 4 个），由池化后的输入经 sigmoid 路由。剩余差异：对照实现的路由 1x1 "
            "卷积无偏置。",
        ),
    ),
    Pair(
        "dynamic-conv",
        "fightingcv",
        "fightingcv_attention.conv.DynamicConv:DynamicConv",
        lambda P, c, hw: (
            cvattn.create("dynamic-conv", in_channels=c, out_channels=c, kernel_size=3, padding=1),
            P(c, c, 3, 1, padding=1, bias=True, K=4, temprature=30, ratio=4),
        ),
        text(
            "Both: K = 4 biased 3x3 kernels aggregated by a softmax attention C -> C/4 -> K with temperature 30. "
            "Left: the peer's attention layers have no biases.",
            "两者：K = 4 个带偏置的 3x3 卷积核，由温度为 30 的 softmax 注意力（C -> C/4 -> K）聚合。剩余差异：对照实现的注意力层"
            "没有偏置。",
        ),
    ),
    Pair(
        "mobilenet",
        "timm",
        "timm.layers:SeparableConv2d",
        lambda P, c, hw: (
            cvattn.create(
                "mobilenet", in_channels=c, out_channels=c, norm_layer=None, act_layer=None, bias=False
            ),
            P(c, c, kernel_size=3),
        ),
        text(
            "Both: a depthwise 3x3 conv then a pointwise 1x1 conv, no biases, no norm, no activation (timm's plain "
            "separable conv; ours built without its BN and ReLU).",
            "两者：3x3 深度卷积接 1x1 逐点卷积，无偏置、无归一化、无激活（timm 的朴素可分离卷积；我们的模块去掉 BN 与 ReLU）。",
        ),
    ),
    Pair(
        "mobilenet",
        "fightingcv",
        "fightingcv_attention.conv.DepthwiseSeparableConvolution:DepthwiseSeparableConvolution",
        lambda P, c, hw: (
            cvattn.create(
                "mobilenet", in_channels=c, out_channels=c, norm_layer=None, act_layer=None, bias=True
            ),
            P(c, c, kernel_size=3, stride=1, padding=1),
        ),
        text(
            "Both: a depthwise 3x3 conv then a pointwise 1x1 conv, both with bias, no norm, no activation (the "
            "peer's; ours configured the same way).",
            "两者：3x3 深度卷积接 1x1 逐点卷积，两者都带偏置，无归一化、无激活（即对照实现的结构；我们的模块按同样方式配置）。",
        ),
    ),
    Pair(
        "acnet",
        "fightingcv",
        "fightingcv_attention.rep.acnet:ACNet",
        lambda P, c, hw: (
            cvattn.create("acnet", in_channels=c, out_channels=c, kernel_size=3),
            _replace(P(c, c, kernel_size=3), activation=nn.Identity()),
        ),
        text(
            "Both: the training-time branches (3x3, 1x3 and 3x1 convs, each with BN), summed; the peer ends with a "
            "ReLU that the block does not have (the network adds it): removed.",
            "两者：训练时的三个分支（3x3、1x3、3x1 卷积，各接 BN）相加；对照实现末尾有一个 ReLU，而该块本身没有（由网络添加）："
            "已移除。",
        ),
    ),
    # ------------------------------------------------------------------ activations
    Pair(
        "swish",
        "timm",
        "timm.layers.activations:Swish",
        lambda P, c, hw: (cvattn.create("swish", beta=1.0, trainable=False), P()),
        text(
            "Both: x * sigmoid(x) (Swish-1), out of place; ours with a constant beta = 1 (the registry's default "
            "configuration learns beta).",
            "两者：x * sigmoid(x)（Swish-1），非原地运算；我们的模块取常数 beta = 1（注册表的默认配置会学习 beta）。",
        ),
    ),
    Pair(
        "mobilenetv3-hard-swish",
        "timm",
        "timm.layers.activations:HardSwish",
        lambda P, c, hw: (cvattn.create("mobilenetv3-hard-swish"), P()),
        text("Both: x * ReLU6(x + 3) / 6, out of place.", "两者：x * ReLU6(x + 3) / 6，非原地运算。"),
    ),
    Pair(
        "mobilenetv3-hard-sigmoid",
        "timm",
        "timm.layers.activations:HardSigmoid",
        lambda P, c, hw: (cvattn.create("mobilenetv3-hard-sigmoid"), P()),
        text("Both: ReLU6(x + 3) / 6, out of place.", "两者：ReLU6(x + 3) / 6，非原地运算。"),
    ),
    # ------------------------------------------------------------------ timm: more layers and model blocks
    Pair(
        "centermask-ese",
        "timm",
        "timm.layers:EffectiveSEModule",
        lambda P, c, hw: (cvattn.create("centermask-ese", channels=c), P(c)),
        text(
            "Both: global average pool, one C -> C 1x1 conv with bias, hard-sigmoid gate (timm's default gate).",
            "两者：全局平均池化，一个带偏置的 C -> C 1x1 卷积，hard-sigmoid 门控（timm 的默认门控）。",
        ),
    ),
    Pair(
        "bat",
        "timm",
        "timm.layers:BatNonLocalAttn",
        lambda P, c, hw: (
            cvattn.create("bat", channels=c, r=4, s=7, k=2, dropout=0.2),
            P(c, block_size=7, groups=2, rd_ratio=1 / 4, drop_rate=0.2),
        ),
        text(
            "Both with timm's defaults: reduction to C/4, 7x7 bilinear transforms in 2 groups, Dropout2d 0.2 before "
            "the residual sum; ours built with r=4, s=7, k=2. Left: our 1x1 conv-BN-ReLUs have conv biases (the "
            "official code's), timm's have none.",
            "两者都用 timm 的默认配置：通道降到 C/4，7x7 双线性变换分 2 组，残差相加前 Dropout2d 0.2；我们的模块以 "
            "r=4、s=7、k=2 构建。剩余差异：我们的 1x1 卷积-BN-ReLU 带卷积偏置（与官方代码一致），timm 的没有。",
        ),
        _divisible(
            7,
            why=text(
                "timm's BAT needs H and W divisible by its block size 7",
                "timm 的 BAT 要求 H、W 能被块大小 7 整除",
            ),
        ),
    ),
    Pair(
        "convnextv2-grn",
        "timm",
        "timm.layers.grn:GlobalResponseNorm",
        lambda P, c, hw: (cvattn.create("convnextv2-grn", channels=c), P(c, channels_last=False)),
        text(
            "Both: L2 norm of each channel over H x W, divided by its mean over channels (eps 1e-6), gamma and beta "
            "per channel, residual; timm in its (N, C, H, W) layout (channels_last=False).",
            "两者：每个通道在 H x W 上的 L2 范数，除以它在通道上的均值（eps 1e-6），逐通道的 gamma 与 beta，再加残差；"
            "timm 使用 (N, C, H, W) 布局（channels_last=False）。",
        ),
    ),
    Pair(
        "halonet",
        "timm",
        "timm.layers.halo_attn:HaloAttn",
        lambda P, c, hw: (
            cvattn.create("halonet", channels=c, heads=8, block_size=8, halo_size=3),
            P(c, num_heads=8, block_size=8, halo_size=3),
        ),
        text(
            "Both: 8 heads of C/8, 8x8 query blocks with a halo of 3 (14x14 windows), bias-free 1x1 q/k/v, relative "
            "height and width logits, scale d^-0.5. Left: ours masks window pixels outside the image out of the "
            "softmax; timm lets its zero padding take part.",
            "两者：8 个头、每头 C/8 通道，8x8 查询块加宽度 3 的 halo（14x14 窗口），无偏置的 1x1 q/k/v，相对高度与宽度"
            "位置项，缩放 d^-0.5。剩余差异：我们把落在图像之外的窗口像素从 softmax 中屏蔽掉；timm 让零填充参与 softmax。",
        ),
        _divisible(
            8,
            why=text(
                "timm's HaloAttn needs H and W divisible by its block size 8",
                "timm 的 HaloAttn 要求 H、W 能被块大小 8 整除",
            ),
        ),
    ),
    Pair(
        "lambda-networks",
        "timm",
        "timm.layers.lambda_layer:LambdaLayer",
        lambda P, c, hw: (
            cvattn.create("lambda-networks", channels=c, heads=4, key_dim=16, r=23),
            P(c, num_heads=4, dim_head=16, r=23),
        ),
        text(
            "Both: 4 heads, keys of 16, values of C/4, intra-depth 1, BatchNorm on queries and values, local "
            "positional lambdas from a 23x23 convolution (timm's default r is 9; both built with the paper's 23).",
            "两者：4 个头，键维度 16，值维度 C/4，intra-depth 为 1，查询与值后接 BatchNorm，位置 lambda 由 23x23 卷积"
            "得到（timm 默认 r 为 9；两边都按论文取 23）。",
        ),
    ),
    Pair(
        "botnet",
        "timm",
        "timm.layers.bottleneck_attn:BottleneckAttn",
        lambda P, c, hw: (
            cvattn.create("botnet", channels=c, heads=4, feat_size=hw),
            P(c, feat_size=hw, num_heads=4),
        ),
        text(
            "Both: 4 heads of C/4, bias-free 1x1 q/k/v, relative height and width logits for the map size they are "
            "built for, scale d^-0.5, no output projection.",
            "两者：4 个头、每头 C/4 通道，无偏置的 1x1 q/k/v，按构建时的特征图大小设置的相对高度与宽度位置项，缩放 "
            "d^-0.5，无输出投影。",
        ),
    ),
    Pair(
        "mobilenetv4-mqa",
        "timm",
        "timm.layers:MultiQueryAttention2d",
        lambda P, c, hw: (
            cvattn.create(
                "mobilenetv4-mqa", channels=c, num_heads=4, key_dim=c // 4, value_dim=c // 4, kv_strides=2
            ),
            P(c, num_heads=4, key_dim=c // 4, value_dim=c // 4, kv_stride=2, dw_kernel_size=3),
        ),
        text(
            "Both: 4 query heads with keys and values of C/4 shared by the heads, keys and values from a stride-2 "
            "depthwise 3x3 conv + BN, bias-free 1x1 projections. Left: ours pads the strided conv as TensorFlow's "
            "'same' (asymmetric), timm symmetrically.",
            "两者：4 个查询头，键与值维度 C/4 且由所有头共享，键与值先经步长 2 的 3x3 深度卷积 + BN，1x1 投影均无偏置。"
            "剩余差异：我们的步长卷积按 TensorFlow 的 'same' 方式（非对称）填充，timm 对称填充。",
        ),
    ),
    Pair(
        "vit",
        "timm",
        "timm.layers:Attention",
        lambda P, c, hw: (
            cvattn.create("vit", channels=c, num_heads=c // 32),
            _Adapted(P(c, num_heads=c // 32, qkv_bias=True), lambda m, x: _tokens(m.peer, x)),
        ),
        text(
            "Both: multi-head self-attention over the H*W tokens with heads of 32 channels, one qkv linear with "
            "bias, output projection, fused scaled_dot_product_attention; timm's takes (N, HW, C) tokens: the "
            "adapter flattens the map and folds it back.",
            "两者：在 H*W 个 token 上做多头自注意力，每头 32 通道，带偏置的 qkv 线性层，输出投影，使用融合的 "
            "scaled_dot_product_attention；timm 的输入是 (N, HW, C) token：适配器把特征图展平后再还原。",
        ),
    ),
    Pair(
        "cait",
        "timm",
        "timm.models.cait:ClassAttn",
        lambda P, c, hw: (
            cvattn.create("cait", channels=c, num_heads=c // 32),
            _Adapted(
                P(c, num_heads=c // 32, qkv_bias=True),
                lambda m, x: (
                    m.peer(
                        torch.cat([m.cls_token.expand(x.size(0), -1, -1), x.flatten(2).transpose(1, 2)], 1)
                    )
                    .transpose(1, 2)
                    .unsqueeze(-1)
                    .expand_as(x)
                ),
                cls_token=nn.Parameter(torch.zeros(1, 1, c)),
            ),
        ),
        text(
            "Both: a learned class token attends to itself and to the H*W tokens, heads of 32 channels, q/k/v "
            "linears with bias, output projection; the adapter prepends the token as CaiT's class-attention block "
            "does and broadcasts the class output over the map, as ours returns it. Left: ours projects the "
            "query of the (shared) class token once instead of once per sample.",
            "两者：一个可学习的类别 token 对自身及 H*W 个 token 做注意力，每头 32 通道，q/k/v 线性层带偏置，带输出投影；"
            "适配器像 CaiT 的类注意力块那样把类别 token 拼在最前，并把类别输出广播到整张特征图（与我们的返回方式相同）。"
            "剩余差异：我们对（所有样本共享的）类别 token 只计算一次查询，而不是每个样本各算一次。",
        ),
    ),
    Pair(
        "cait-talking-heads",
        "timm",
        "timm.models.cait:TalkingHeadAttn",
        lambda P, c, hw: (
            cvattn.create("cait-talking-heads", channels=c, num_heads=c // 32),
            _Adapted(P(c, num_heads=c // 32, qkv_bias=True), lambda m, x: _tokens(m.peer, x)),
        ),
        text(
            "Both: global attention over the H*W tokens with heads of 32 channels, logits mixed across heads by a "
            "linear layer before the softmax and the maps again after it, qkv with bias, output projection; timm "
            "takes tokens (adapter: flatten and fold back).",
            "两者：在 H*W 个 token 上做全局注意力，每头 32 通道，softmax 之前用线性层在头之间混合 logits，softmax 之后"
            "再混合一次注意力图，qkv 带偏置，带输出投影；timm 的输入是 token（适配器负责展平与还原）。",
        ),
    ),
    Pair(
        "xcit",
        "timm",
        "timm.models.xcit:XCA",
        lambda P, c, hw: (
            cvattn.create("xcit", channels=c, num_heads=8),
            _Adapted(P(c, num_heads=8, qkv_bias=True), lambda m, x: _tokens(m.peer, x)),
        ),
        text(
            "Both: cross-covariance attention among the channels of 8 heads, queries and keys L2-normalised over "
            "the tokens, a learned temperature per head, qkv with bias, output projection, fused "
            "scaled_dot_product_attention; timm takes tokens (adapter: flatten and fold back).",
            "两者：8 个头内部在通道之间做交叉协方差注意力，查询与键在 token 维上做 L2 归一化，每个头一个可学习温度，"
            "qkv 带偏置，带输出投影，使用融合的 scaled_dot_product_attention；timm 的输入是 token（适配器负责展平与还原）。",
        ),
    ),
    Pair(
        "davit",
        "timm",
        "timm.models.davit:ChannelAttention",
        lambda P, c, hw: (
            cvattn.create("davit", channels=c, num_heads=c // 32),
            _Adapted(P(c, num_heads=c // 32, qkv_bias=True), lambda m, x: _tokens(m.peer, x)),
        ),
        text(
            "Both: channel group attention, groups of 32 channels whose channel tokens attend to each other over "
            "the whole map, scale C_g^-0.5, qkv with bias, output projection; timm takes tokens (adapter: flatten "
            "and fold back).",
            "两者：通道分组注意力，每组 32 个通道，组内的通道 token 在整张特征图上相互注意，缩放 C_g^-0.5，qkv 带偏置，"
            "带输出投影；timm 的输入是 token（适配器负责展平与还原）。",
        ),
    ),
    Pair(
        "volo",
        "timm",
        "timm.models.volo:OutlookAttention",
        lambda P, c, hw: (
            cvattn.create("volo", channels=c, num_heads=c // 32, kernel_size=3, padding=1, stride=2),
            _Adapted(
                P(c, num_heads=c // 32, kernel_size=3, padding=1, stride=2),
                lambda m, x: _channels_last(m.peer, x),
            ),
        ),
        text(
            "Both: outlook attention with 3x3 windows, attention weights predicted at stride 2, heads of 32 "
            "channels, bias-free value projection, output projection; timm works on (N, H, W, C) (adapter: "
            "permute in and out).",
            "两者：3x3 窗口的 outlook 注意力，注意力权重以步长 2 预测，每头 32 通道，值投影无偏置，带输出投影；"
            "timm 在 (N, H, W, C) 布局上运算（适配器负责前后转置）。",
        ),
    ),
    Pair(
        "poolformer",
        "timm",
        "timm.models.metaformer:Pooling",
        lambda P, c, hw: (cvattn.create("poolformer", channels=c, pool_size=3), P(pool_size=3)),
        text(
            "Both: 3x3 average pooling with stride 1 that leaves the padding out of the mean, minus the input.",
            "两者：步长 1 的 3x3 平均池化（填充不计入均值），再减去输入。",
        ),
    ),
    Pair(
        "ghostnet",
        "timm",
        "timm.models.ghostnet:GhostModule",
        lambda P, c, hw: (
            cvattn.create("ghostnet", in_channels=c, out_channels=c, kernel_size=1, ratio=2, dw_size=3),
            P(c, c, kernel_size=1, ratio=2, dw_size=3),
        ),
        text(
            "Both: a 1x1 conv-BN-ReLU to C/2 intrinsic maps, a depthwise 3x3 conv-BN-ReLU for the C/2 ghosts, "
            "concatenated.",
            "两者：1x1 卷积-BN-ReLU 得到 C/2 个本征特征图，3x3 深度卷积-BN-ReLU 生成 C/2 个 ghost 特征图，二者拼接。",
        ),
    ),
    Pair(
        "ghostnetv2-dfc",
        "timm",
        "timm.models.ghostnet:GhostModuleV2",
        lambda P, c, hw: (
            cvattn.create("ghostnetv2-dfc", channels=c, kernel_size=1, ratio=2, dw_size=3),
            P(c, c, kernel_size=1, ratio=2, dw_size=3),
        ),
        text(
            "Both: a Ghost module gated by DFC attention computed at half resolution (2x2 average pool, 1x1 conv, "
            "1x5 and 5x1 depthwise convs, each with BN), sigmoid, nearest upsampling.",
            "两者：由 DFC 注意力门控的 Ghost 模块，注意力在一半分辨率上计算（2x2 平均池化、1x1 卷积、1x5 与 5x1 深度卷积，"
            "各接 BN），sigmoid 后最近邻上采样。",
        ),
    ),
    Pair(
        "swiftformer",
        "timm",
        "timm.models.swiftformer:EfficientAdditiveAttention",
        lambda P, c, hw: (
            cvattn.create("swiftformer", channels=c, num_heads=1),
            P(c, token_dim=c, num_heads=1),
        ),
        text(
            "Both: efficient additive attention with one head of C channels: normalised query and key linears, a "
            "learned global query vector, a linear on the modulated keys, the query added back, a final linear.",
            "两者：单头、C 通道的高效加性注意力：归一化后的查询与键线性层，一个可学习的全局查询向量，对调制后的键做线性变换，"
            "再加回查询，最后一个线性层。",
        ),
    ),
    Pair(
        "swin",
        "timm",
        "timm.models.swin_transformer:SwinTransformerBlock",
        lambda P, c, hw: (
            cvattn.create("swin", channels=c, num_heads=c // 32, window_size=7),
            _swin_peer(P, c, hw),
        ),
        text(
            "Both: window attention in 7x7 windows, heads of 32 channels, qkv with bias, relative position bias "
            "table, output projection. timm's attention runs through its block's own window partition "
            "(SwinTransformerBlock._attn, (N, H, W, C)); the block's LayerNorms and MLP are removed.",
            "两者：7x7 窗口内的窗口注意力，每头 32 通道，qkv 带偏置，相对位置偏置表，带输出投影。timm 的注意力通过其"
            "块自身的窗口划分（SwinTransformerBlock._attn，(N, H, W, C) 布局）运行；块中的 LayerNorm 与 MLP 已移除。",
        ),
    ),
    Pair(
        "swin-shifted",
        "timm",
        "timm.models.swin_transformer:SwinTransformerBlock",
        lambda P, c, hw: (
            cvattn.create("swin-shifted", channels=c, num_heads=c // 32, window_size=7, shift_size=3),
            _swin_peer(P, c, hw, shift=3),
        ),
        text(
            "As swin, with windows shifted by 3 (cyclic roll and the attention mask of shifted windows) on both "
            "sides; timm's mask is precomputed for the map size it is built for.",
            "与 swin 相同，两边的窗口都平移 3（循环移位，加上平移窗口的注意力掩码）；timm 的掩码按构建时的特征图大小预先算好。",
        ),
    ),
    Pair(
        "swinv2",
        "timm",
        "timm.models.swin_transformer_v2:SwinTransformerV2Block",
        lambda P, c, hw: (
            cvattn.create("swinv2", channels=c, num_heads=c // 32, window_size=7),
            _swin_peer(P, c, hw),
        ),
        text(
            "Both: Swin V2 window attention in 7x7 windows, heads of 32 channels: cosine similarity with a "
            "learned, clamped temperature per head, the continuous position bias from a 2-layer MLP (512 hidden) "
            "on log-spaced offsets, q and v biases, output projection. timm runs through its block's _attn; its "
            "LayerNorms and MLP are removed.",
            "两者：7x7 窗口内的 Swin V2 窗口注意力，每头 32 通道：余弦相似度乘以每个头可学习并截断的温度，由两层 MLP"
            "（隐藏层 512）作用于对数间隔偏移得到的连续位置偏置，q 与 v 带偏置，带输出投影。timm 通过其块的 _attn 运行；"
            "块中的 LayerNorm 与 MLP 已移除。",
        ),
    ),
    Pair(
        "swinv2-shifted",
        "timm",
        "timm.models.swin_transformer_v2:SwinTransformerV2Block",
        lambda P, c, hw: (
            cvattn.create("swinv2-shifted", channels=c, num_heads=c // 32, window_size=7, shift_size=3),
            _swin_peer(P, c, hw, shift=3),
        ),
        text(
            "As swinv2, with windows shifted by 3 (cyclic roll and the shifted-window mask) on both sides.",
            "与 swinv2 相同，两边的窗口都平移 3（循环移位与平移窗口掩码）。",
        ),
    ),
    Pair(
        "maxvit-block",
        "timm",
        "timm.models.maxxvit:PartitionAttentionCl",
        lambda P, c, hw: (
            cvattn.create("maxvit-block", channels=c, head_size=32, size=7),
            _maxvit_peer(P, c, "block"),
        ),
        text(
            "Both: MaxViT block attention in 7x7 windows, heads of 32 channels, qkv with bias, a (2P-1)^2 relative "
            "position bias table per head, output projection. timm runs through its block's own partition "
            "(PartitionAttentionCl._partition_attn, (N, H, W, C)); the block's norms, MLP and layer scale are removed.",
            "两者：7x7 窗口内的 MaxViT 块注意力，每头 32 通道，qkv 带偏置，每个头一张 (2P-1)^2 的相对位置偏置表，带输出投影。"
            "timm 通过其块自身的划分（PartitionAttentionCl._partition_attn，(N, H, W, C) 布局）运行；块中的归一化、MLP 与 "
            "layer scale 已移除。",
        ),
    ),
    Pair(
        "maxvit-grid",
        "timm",
        "timm.models.maxxvit:PartitionAttentionCl",
        lambda P, c, hw: (
            cvattn.create("maxvit-grid", channels=c, head_size=32, size=7),
            _maxvit_peer(P, c, "grid"),
        ),
        text(
            "As maxvit-block, with a 7x7 grid (pixels H/7 and W/7 apart attend to each other) on both sides.",
            "与 maxvit-block 相同，两边都用 7x7 网格（相隔 H/7 与 W/7 的像素相互注意）。",
        ),
    ),
    Pair(
        "twins-lsa",
        "timm",
        "timm.models.twins:LocallyGroupedAttn",
        lambda P, c, hw: (
            cvattn.create("twins-lsa", channels=c, num_heads=c // 32, window_size=7, qkv_bias=True),
            _Adapted(
                P(c, num_heads=c // 32, ws=7), lambda m, x: _tokens(lambda t: m.peer(t, x.shape[2:]), x)
            ),
        ),
        text(
            "Both: multi-head self-attention inside 7x7 windows, heads of 32 channels, qkv with bias (timm's "
            "nn.Linear default), output projection; timm takes tokens and the map size.",
            "两者：7x7 窗口内的多头自注意力，每头 32 通道，qkv 带偏置（timm 的 nn.Linear 默认），带输出投影；timm 的"
            "输入是 token 加特征图大小。",
        ),
    ),
    Pair(
        "twins-gsa",
        "timm",
        "timm.models.twins:GlobalSubSampleAttn",
        lambda P, c, hw: (
            cvattn.create("twins-gsa", channels=c, num_heads=c // 32, sr_ratio=4, qkv_bias=True),
            _Adapted(
                P(c, num_heads=c // 32, sr_ratio=4), lambda m, x: _tokens(lambda t: m.peer(t, x.shape[2:]), x)
            ),
        ),
        text(
            "Both: every pixel attends to keys and values sub-sampled by a 4x4 stride-4 conv and LayerNorm, heads "
            "of 32 channels, q and kv with bias, output projection; timm takes tokens and the map size.",
            "两者：每个像素对经 4x4、步长 4 的卷积与 LayerNorm 下采样后的键和值做注意力，每头 32 通道，q 与 kv 带偏置，"
            "带输出投影；timm 的输入是 token 加特征图大小。",
        ),
    ),
    Pair(
        "pvt",
        "timm",
        "timm.models.pvt_v2:Attention",
        lambda P, c, hw: (
            cvattn.create("pvt", channels=c, num_heads=c // 32, sr_ratio=4, qkv_bias=True),
            _Adapted(
                P(c, num_heads=c // 32, sr_ratio=4, qkv_bias=True),
                lambda m, x: _tokens(lambda t: m.peer(t, list(x.shape[2:])), x),
            ),
        ),
        text(
            "PVT's spatial-reduction attention is the non-linear attention of timm's PVT v2 (linear_attn=False): "
            "both reduce keys and values by a 4x4 stride-4 conv and LayerNorm, heads of 32 channels, q and kv "
            "with bias, output projection; timm takes tokens and the map size.",
            "PVT 的空间缩减注意力就是 timm 中 PVT v2 的非线性注意力（linear_attn=False）：两者都用 4x4、步长 4 的卷积与 "
            "LayerNorm 缩减键和值，每头 32 通道，q 与 kv 带偏置，带输出投影；timm 的输入是 token 加特征图大小。",
        ),
    ),
    Pair(
        "pvtv2-sra",
        "timm",
        "timm.models.pvt_v2:Attention",
        lambda P, c, hw: (
            cvattn.create("pvtv2-sra", channels=c, num_heads=c // 32, sr_ratio=4, qkv_bias=True),
            _Adapted(
                P(c, num_heads=c // 32, sr_ratio=4, qkv_bias=True),
                lambda m, x: _tokens(lambda t: m.peer(t, list(x.shape[2:])), x),
            ),
        ),
        text(
            "Both: PVT v2's spatial-reduction attention (linear_attn=False) with keys and values reduced by a 4x4 "
            "stride-4 conv and LayerNorm, heads of 32 channels, q and kv with bias, output projection.",
            "两者：PVT v2 的空间缩减注意力（linear_attn=False），键和值由 4x4、步长 4 的卷积与 LayerNorm 缩减，每头 32 "
            "通道，q 与 kv 带偏置，带输出投影。",
        ),
    ),
    Pair(
        "pvtv2",
        "timm",
        "timm.models.pvt_v2:Attention",
        lambda P, c, hw: (
            cvattn.create("pvtv2", channels=c, num_heads=c // 32, pool_size=7, qkv_bias=True),
            _Adapted(
                P(c, num_heads=c // 32, linear_attn=True, qkv_bias=True),
                lambda m, x: _tokens(lambda t: m.peer(t, list(x.shape[2:])), x),
            ),
        ),
        text(
            "Both: PVT v2's linear SRA: keys and values from the map average-pooled to 7x7, a 1x1 conv, LayerNorm "
            "and GELU, heads of 32 channels, q and kv with bias, output projection.",
            "两者：PVT v2 的线性 SRA：键和值来自平均池化到 7x7 的特征图，再经 1x1 卷积、LayerNorm 与 GELU，每头 32 通道，"
            "q 与 kv 带偏置，带输出投影。",
        ),
    ),
    Pair(
        "focalnet",
        "timm",
        "timm.models.focalnet:FocalModulation",
        lambda P, c, hw: (
            cvattn.create("focalnet", channels=c, focal_window=3, focal_level=2),
            P(c, focal_window=3, focal_level=2),
        ),
        text(
            "Both: focal modulation with 2 levels of depthwise convs from kernel 3 (3 and 5) with GELU, a global "
            "average level, gates from one linear, a 1x1 conv for the modulator, output projection; no post-norm, "
            "modulator not normalised.",
            "两者：两级焦点调制，深度卷积核从 3 开始（3 与 5）并接 GELU，外加一级全局平均，门控由一个线性层给出，调制器经 "
            "1x1 卷积，带输出投影；不做后归一化，调制器不归一化。",
        ),
    ),
    Pair(
        "gcvit",
        "timm",
        "timm.models.gcvit:GlobalContextVitBlock",
        lambda P, c, hw: (
            cvattn.create("gcvit", channels=c, num_heads=c // 32, window_size=7, num_pools=_log2(hw[0] // 7)),
            _gcvit_peer(P, c, hw),
        ),
        text(
            "Both: global queries from a query generator of log2(H/7) steps (depthwise 3x3, GELU, SE, 1x1, residual, "
            "3x3 stride-2 max pool) that shrinks the map to 7x7, attending inside every 7x7 window, heads of 32 "
            "channels, kv with bias, relative position bias, output projection. timm: its stage's FeatureBlock "
            "makes the queries and its block's _window_attn partitions the map (its LayerNorms and MLP removed); "
            "both feed the generator the map itself.",
            "两者：全局查询由 log2(H/7) 步的查询生成器得到（3x3 深度卷积、GELU、SE、1x1 卷积、残差、3x3 步长 2 的最大池化），"
            "把特征图缩到 7x7，并在每个 7x7 窗口内做注意力，每头 32 通道，kv 带偏置，相对位置偏置，带输出投影。timm 侧由其 "
            "stage 的 FeatureBlock 生成查询，由其块的 _window_attn 划分窗口（LayerNorm 与 MLP 已移除）；两边都把特征图本身"
            "送入生成器。",
        ),
        _divisible(
            7,
            why=text(
                "timm's GC ViT needs H and W divisible by its window size 7",
                "timm 的 GC ViT 要求 H、W 能被窗口大小 7 整除",
            ),
        ),
    ),
    Pair(
        "efficientvit",
        "timm",
        "timm.models.efficientvit_mit:LiteMLA",
        lambda P, c, hw: (cvattn.create("efficientvit", channels=c, dim=16), P(c, c, dim=16)),
        text(
            "Both: LiteMLA with heads of 16 channels, ReLU linear attention on queries, keys and values and on "
            "their 5x5 multi-scale aggregates (depthwise 5x5 + grouped 1x1), bias-free qkv, projection with BN. "
            "Left: the normaliser's eps (ours 1e-15 as the official code, timm 1e-5).",
            "两者：每头 16 通道的 LiteMLA，对查询、键、值及其 5x5 多尺度聚合（5x5 深度卷积 + 分组 1x1 卷积）做 ReLU 线性注意力，"
            "qkv 无偏置，输出投影接 BN。剩余差异：归一化项的 eps（我们与官方代码一致为 1e-15，timm 为 1e-5）。",
        ),
    ),
    Pair(
        "efficientvit-msra",
        "timm",
        "timm.models.efficientvit_msra:LocalWindowAttention",
        lambda P, c, hw: (
            cvattn.create("efficientvit-msra", channels=c, key_dim=16, num_heads=4, window_size=7),
            P(c, 16, num_heads=4, attn_ratio=c // 64, resolution=hw[0], window_resolution=7),
        ),
        text(
            "Both: cascaded group attention in 7x7 windows, 4 heads with keys of 16 and values of C/4 (timm's "
            "attn_ratio = C / (16 * 4), as every EfficientViT-M model), a depthwise 5x5 conv on each head's "
            "queries, the attention bias table, ReLU and a conv-BN projection. timm's LocalWindowAttention "
            "partitions the map itself.",
            "两者：7x7 窗口内的级联分组注意力，4 个头，键维度 16、值维度 C/4（timm 的 attn_ratio = C / (16 * 4)，与所有 "
            "EfficientViT-M 模型一致），每个头的查询经 5x5 深度卷积，注意力偏置表，ReLU 后接卷积-BN 投影。timm 的 "
            "LocalWindowAttention 自己划分窗口。",
        ),
    ),
    Pair(
        "mobilevit",
        "timm",
        "timm.models.mobilevit:MobileVitBlock",
        lambda P, c, hw: (
            cvattn.create(
                "mobilevit",
                channels=c,
                transformer_dim=c * 3 // 2,
                ffn_dim=c * 3,
                num_layers=2,
                num_heads=4,
                patch_size=2,
            ),
            P(
                c,
                c,
                transformer_dim=c * 3 // 2,
                mlp_ratio=2.0,
                transformer_depth=2,
                num_heads=4,
                patch_size=2,
            ),
        ),
        text(
            "Both: a MobileViT block with a 3x3 conv-BN-SiLU and a 1x1 projection to d = 1.5 C, 2 transformer "
            "layers (4 heads, FFN 2d) across 2x2 patches, LayerNorm, a 1x1 conv-BN-SiLU back to C and the 3x3 "
            "fusion conv on [input, output].",
            "两者：MobileViT 块，先 3x3 卷积-BN-SiLU 与 1x1 投影到 d = 1.5 C，在 2x2 patch 之间做 2 层 transformer"
            "（4 个头，FFN 宽 2d），LayerNorm，1x1 卷积-BN-SiLU 回到 C，再对 [输入, 输出] 做 3x3 融合卷积。",
        ),
    ),
    Pair(
        "mobilevitv2",
        "timm",
        "timm.models.mobilevit:MobileVitV2Block",
        lambda P, c, hw: (
            cvattn.create(
                "mobilevitv2", channels=c, attn_dim=c // 2, ffn_multiplier=2.0, num_layers=2, patch_size=2
            ),
            P(c, c, transformer_dim=c // 2, mlp_ratio=2.0, transformer_depth=2, patch_size=2),
        ),
        text(
            "Both: a MobileViTv2 block with a depthwise 3x3 conv-BN-SiLU and a 1x1 projection to d = C/2, 2 layers "
            "of separable self-attention with FFN 2d and GroupNorm(1) across 2x2 patches, a 1x1 conv-BN back to C.",
            "两者：MobileViTv2 块，先 3x3 深度卷积-BN-SiLU 与 1x1 投影到 d = C/2，在 2x2 patch 之间做 2 层可分离自注意力"
            "（FFN 宽 2d，GroupNorm(1)），再用 1x1 卷积-BN 回到 C。",
        ),
    ),
    Pair(
        "mlp-mixer",
        "timm",
        "timm.models.mlp_mixer:MixerBlock",
        lambda P, c, hw: (
            cvattn.create("mlp-mixer", channels=c, h=hw[0], w=hw[1], tokens_mlp_dim=384),
            _Adapted(
                P(
                    c,
                    hw[0] * hw[1],
                    mlp_ratio=(384 / c, 4.0),
                    act_layer=functools.partial(nn.GELU, approximate="tanh"),
                ).mlp_tokens,
                lambda m, x: m.peer(x.flatten(2)).reshape(x.shape),
            ),
        ),
        text(
            "Both: MLP-Mixer's token-mixing MLP over the H*W positions (hidden 384, tanh-approximated GELU as the "
            "official JAX code), shared by the channels; timm: the mlp_tokens of its MixerBlock (its LayerNorm, "
            "residual and channel MLP are not part of our module).",
            "两者：MLP-Mixer 在 H*W 个位置上的 token 混合 MLP（隐藏层 384，与官方 JAX 代码一样用 tanh 近似的 GELU），所有"
            "通道共享；timm 侧取其 MixerBlock 的 mlp_tokens（其 LayerNorm、残差与通道 MLP 不属于我们的模块）。",
        ),
    ),
    Pair(
        "gmlp",
        "timm",
        "timm.models.mlp_mixer:SpatialGatingBlock",
        lambda P, c, hw: (
            cvattn.create("gmlp", channels=c, h=hw[0], w=hw[1], ffn_ratio=6),
            _Adapted(P(c, hw[0] * hw[1], mlp_ratio=6).mlp_channels, lambda m, x: _tokens(m.peer, x)),
        ),
        text(
            "Both: gMLP's channel projection to 6C, GELU, the spatial gating unit (LayerNorm on one half, a linear "
            "map over the H*W positions, product with the other half) and the projection back to C; timm: the "
            "GatedMlp of its SpatialGatingBlock (the block's outer LayerNorm and residual are not part of ours).",
            "两者：gMLP 的通道投影到 6C、GELU、空间门控单元（对一半通道做 LayerNorm，在 H*W 个位置上做线性映射，再与另一半"
            "相乘），最后投影回 C；timm 侧取其 SpatialGatingBlock 中的 GatedMlp（块外层的 LayerNorm 与残差不属于我们的模块）。",
        ),
    ),
    # ------------------------------------------------------------------ fightingcv: more attention modules
    Pair(
        "acmix",
        "fightingcv",
        FCV + "ACmixAttention:ACmix",
        lambda P, c, hw: (
            cvattn.create("acmix", channels=c, kernel_att=7, num_heads=4, kernel_conv=3),
            P(c, c, kernel_att=7, head=4, kernel_conv=3),
        ),
        text(
            "Both: ACmix with shared 1x1 q/k/v projections feeding a 7x7 local self-attention of 4 heads (with "
            "the positional encoding from coordinates) and a shift-based 3x3 convolution path, mixed by two "
            "learned scalars.",
            "两者：ACmix，共享的 1x1 q/k/v 投影同时送入 4 个头的 7x7 局部自注意力（位置编码由坐标生成）和基于移位的 3x3 "
            "卷积路径，二者由两个可学习标量加权混合。",
        ),
    ),
    Pair(
        "halonet",
        "fightingcv",
        FCV + "HaloAttention:HaloAttention",
        lambda P, c, hw: (
            cvattn.create("halonet", channels=c, heads=8, block_size=8, halo_size=3),
            _replace(P(dim=c, block_size=8, halo_size=3, dim_head=c // 8, heads=8), to_out=nn.Identity()),
        ),
        text(
            "Both: 8 heads of C/8, 8x8 query blocks with a halo of 3, bias-free q/k/v, relative position logits, "
            "scale d^-0.5, padding masked out of the softmax. The peer's output projection (a C x C linear that "
            "ours does not have) is removed. Left: the peer projects keys and values per window (the unfolded "
            "14x14 windows overlap), ours once per pixel.",
            "两者：8 个头、每头 C/8，8x8 查询块加宽度 3 的 halo，q/k/v 无偏置，相对位置项，缩放 d^-0.5，填充位置从 softmax "
            "中屏蔽。对照实现的输出投影（一个我们没有的 C x C 线性层）已移除。剩余差异：对照实现在每个窗口上分别投影键和值"
            "（展开后的 14x14 窗口相互重叠），我们对每个像素只投影一次。",
        ),
        _divisible(
            8,
            why=text(
                "the peer needs H and W divisible by its block size 8", "对照实现要求 H、W 能被块大小 8 整除"
            ),
        ),
    ),
    Pair(
        "external-attention",
        "fightingcv",
        FCV + "ExternalAttention:ExternalAttention",
        lambda P, c, hw: (
            cvattn.create("external-attention", channels=c, memory_units=64),
            _Adapted(
                P(c, S=64),
                lambda m, x: m.act(m.norm(m.proj_out(_tokens(m.peer, m.proj_in(x)))) + x),
                proj_in=nn.Conv2d(c, c, 1),
                proj_out=nn.Conv2d(c, c, 1, bias=False),
                norm=nn.BatchNorm2d(c),
                act=nn.ReLU(),
            ),
        ),
        text(
            "The peer is the memory part only (M_k, softmax over positions, l1 over the 64 memory units, M_v); "
            "the adapter puts around it the EANet block that ours is (1x1 conv in, 1x1 conv out, BN, residual, "
            "ReLU), so both compute the same block.",
            "对照实现只有记忆单元部分（M_k、在位置上做 softmax、在 64 个记忆单元上做 l1 归一化、M_v）；适配器在外面补上"
            "我们模块所实现的 EANet 块（输入 1x1 卷积、输出 1x1 卷积、BN、残差、ReLU），因此两边计算的是同一个块。",
        ),
    ),
    Pair(
        "simam",
        "fightingcv",
        FCV + "SimAM:SimAM",
        lambda P, c, hw: (cvattn.create("simam", channels=c, e_lambda=1e-4), P(c, e_lambda=1e-4)),
        text(
            "Both: parameter-free SimAM with lambda 1e-4 (the official formula).",
            "两者：无参数的 SimAM，lambda 取 1e-4（官方公式）。",
        ),
    ),
    Pair(
        "parnet-sse",
        "fightingcv",
        FCV + "ParNetAttention:ParNetAttention",
        lambda P, c, hw: (
            cvattn.create("parnet-sse", channels=c, norm_layer=nn.Identity),
            _Adapted(
                _replace(P(c), conv1x1=nn.Identity(), conv3x3=nn.Identity()), lambda m, x: m.peer.sse(x) * x
            ),
        ),
        text(
            "The peer is the whole ParNet block (1x1 conv-BN, 3x3 conv-BN and SSE branches, SiLU); its SSE branch "
            "sse(x) * x is compared (the conv branches removed) with ours built without the skip BatchNorm, which "
            "the peer's branch does not have. Left: the peer's 1x1 excitation conv has a bias.",
            "对照实现是整个 ParNet 块（1x1 卷积-BN、3x3 卷积-BN 与 SSE 三个分支，再接 SiLU）；这里比较的是它的 SSE 分支 "
            "sse(x) * x（卷积分支已移除），我们的模块相应地去掉跳连上的 BatchNorm（对照分支没有它）。剩余差异：对照实现的 1x1 "
            "激励卷积带偏置。",
        ),
    ),
    Pair(
        "polarized-self-attention",
        "fightingcv",
        FCV + "PolarizedSelfAttention:ParallelPolarizedSelfAttention",
        lambda P, c, hw: (cvattn.create("polarized-self-attention", channels=c), P(c)),
        text(
            "Both: the parallel layout of polarized self-attention: a channel-only branch (C/2 values, one query "
            "channel, softmax over positions, 1x1 back to C, LayerNorm, sigmoid) and a spatial-only branch (C/2 "
            "queries globally pooled, softmax over channels, sigmoid), summed.",
            "两者：极化自注意力的并行结构：仅通道分支（C/2 个值通道、一个查询通道、在位置上做 softmax、1x1 卷积回到 C、"
            "LayerNorm、sigmoid）与仅空间分支（C/2 个查询通道做全局池化、在通道上做 softmax、sigmoid），两者相加。",
        ),
    ),
    Pair(
        "polarized-self-attention-sequential",
        "fightingcv",
        FCV + "PolarizedSelfAttention:SequentialPolarizedSelfAttention",
        lambda P, c, hw: (cvattn.create("polarized-self-attention-sequential", channels=c), P(c)),
        text(
            "Both: the sequential layout (the channel-only gate, then the spatial-only gate on its output).",
            "两者：串行结构（先仅通道门控，再对其输出做仅空间门控）。",
        ),
    ),
    Pair(
        "volo",
        "fightingcv",
        FCV + "OutlookAttention:OutlookAttention",
        lambda P, c, hw: (
            cvattn.create("volo", channels=c, num_heads=c // 32, kernel_size=3, padding=1, stride=1),
            _Adapted(
                P(c, num_heads=c // 32, kernel_size=3, padding=1, stride=1, attn_drop=0.0),
                lambda m, x: _channels_last(m.peer, x),
            ),
        ),
        text(
            "Both: outlook attention with 3x3 windows at stride 1, heads of 32 channels, bias-free value "
            "projection, output projection. Stride 1 on both sides (VOLO uses 2): the peer passes its padding "
            "and stride to nn.Unfold as dilation and padding, which is right only for stride 1. Its dropouts "
            "(default 0.1) set to 0 as ours; the peer works on (N, H, W, C).",
            "两者：步长 1 的 3x3 窗口 outlook 注意力，每头 32 通道，值投影无偏置，带输出投影。两边都取步长 1（VOLO 用 2）："
            "对照实现把 padding 与 stride 按位置传给 nn.Unfold，实际成了 dilation 与 padding，只有步长为 1 时才正确。其 "
            "dropout（默认 0.1）设为 0，与我们一致；对照实现在 (N, H, W, C) 布局上运算。",
        ),
    ),
    Pair(
        "vision-permutator",
        "fightingcv",
        "fightingcv_attention.mlp.vip-mlp:WeightedPermuteMLP",
        lambda P, c, hw: (
            cvattn.create("vision-permutator", channels=c, segment_dim=hw[0]),
            _Adapted(P(c, segment_dim=hw[0]), lambda m, x: _channels_last(m.peer, x)),
        ),
        text(
            "Both: ViP's weighted Permute-MLP (height, width and channel linears fused by a weighted split), "
            "segment dimension equal to H, as the official code requires.",
            "两者：ViP 的加权 Permute-MLP（高度、宽度、通道三个线性映射，经加权拆分融合），分段数等于 H，这是官方代码的要求。",
        ),
        lambda shape: (
            None
            if shape[2] == shape[3] and shape[1] % shape[2] == 0
            else text(
                "ViP's Permute-MLP mixes along H with a C x C linear: it needs H = W = segment_dim dividing C "
                f"(here H = {shape[2]}, C = {shape[1]})",
                f"ViP 的 Permute-MLP 用 C x C 线性层沿 H 方向混合：要求 H = W = segment_dim 且能整除 C（这里 H = {shape[2]}，"
                f"C = {shape[1]}）",
            )
        ),
    ),
    Pair(
        "gfnet",
        "fightingcv",
        FCV + "gfnet:GlobalFilter",
        lambda P, c, hw: (
            cvattn.create("gfnet", channels=c, h=hw[0], w=hw[1] // 2 + 1),
            _Adapted(P(c, h=hw[0], w=hw[1] // 2 + 1), lambda m, x: _tokens(m.peer, x)),
        ),
        text(
            "Both: GFNet's global filter: 2-D real FFT (ortho), product with a learned complex H x (W/2+1) filter "
            "per channel, inverse FFT; the peer takes (N, HW, C) tokens.",
            "两者：GFNet 的全局滤波器：二维实数 FFT（ortho 归一化），与每个通道一个可学习的 H x (W/2+1) 复数滤波器相乘，"
            "再做逆 FFT；对照实现的输入是 (N, HW, C) token。",
        ),
        env="timm",  # the peer imports timm, which needs torchvision: it runs in the timm environment
    ),
    Pair(
        "hornet",
        "fightingcv",
        "fightingcv_attention.conv.HorNet:gnconv",
        lambda P, c, hw: (cvattn.create("hornet", channels=c, order=5, kernel_size=7), P(c, order=5)),
        text(
            "Both: gnConv of order 5: a 1x1 projection to 2C, one 7x7 depthwise conv with bias on the gating "
            "channels, recursive gated products with 1x1 convs, output projection, scale 1.",
            "两者：5 阶 gnConv：1x1 投影到 2C，对门控通道做一次带偏置的 7x7 深度卷积，递归门控相乘并经 1x1 卷积，带输出投影，"
            "缩放为 1。",
        ),
        env="timm",  # the peer imports timm, which needs torchvision: it runs in the timm environment
    ),
    Pair(
        "mlp-mixer",
        "fightingcv",
        "fightingcv_attention.mlp.mlp_mixer:MixerBlock",
        lambda P, c, hw: (
            cvattn.create("mlp-mixer", channels=c, h=hw[0], w=hw[1], tokens_mlp_dim=384, act_layer=nn.GELU),
            _Adapted(
                P(
                    tokens_mlp_dim=hw[0] * hw[1],
                    channels_mlp_dim=c,
                    tokens_hidden_dim=384,
                    channels_hidden_dim=c,
                ).tokens_mlp_block,
                lambda m, x: m.peer(x.flatten(2)).reshape(x.shape),
            ),
        ),
        text(
            "Both: MLP-Mixer's token-mixing MLP over the H*W positions, hidden 384, exact GELU (the peer's; ours "
            "built with it instead of the tanh approximation); the peer: the tokens_mlp_block of its MixerBlock.",
            "两者：MLP-Mixer 在 H*W 个位置上的 token 混合 MLP，隐藏层 384，精确 GELU（对照实现用的是精确 GELU，我们的模块"
            "相应地不用 tanh 近似）；对照实现取其 MixerBlock 的 tokens_mlp_block。",
        ),
    ),
    Pair(
        "vit",
        "fightingcv",
        FCV + "SelfAttention:ScaledDotProductAttention",
        lambda P, c, hw: (
            cvattn.create("vit", channels=c, num_heads=c // 32),
            _Adapted(P(c, 32, 32, c // 32, dropout=0.0), lambda m, x: _tokens(lambda t: m.peer(t, t, t), x)),
        ),
        text(
            "Both: multi-head self-attention over the H*W tokens, heads of 32 channels, q/k/v linears with bias "
            "(the peer: three, ours: one fused), output projection, no dropout (the peer's default 0.1 set to 0). "
            "Left: the peer materialises the attention matrix, ours calls scaled_dot_product_attention.",
            "两者：在 H*W 个 token 上做多头自注意力，每头 32 通道，q/k/v 线性层带偏置（对照实现用三个，我们合成一个），"
            "带输出投影，无 dropout（对照实现默认 0.1，设为 0）。剩余差异：对照实现显式构造注意力矩阵，我们调用 "
            "scaled_dot_product_attention。",
        ),
    ),
    Pair(
        "dat",
        "fightingcv",
        FCV + "DAT:DAttentionBaseline",
        lambda P, c, hw: (
            cvattn.create("dat", channels=c, num_heads=c // 32, num_groups=2, fmap_size=hw, kernel_size=5),
            P(hw, hw, c // 32, 32, 2, 0.0, 0.0, 1, 2.0, True, False, False, False, 2),
        ),
        text(
            "Both: DAT deformable attention with heads of 32 channels in 2 offset groups, offsets from a depthwise "
            "5x5 conv, LayerNorm, GELU and a 1x1 conv, range factor 2, keys and values bilinearly sampled at the "
            "offset reference points, relative position bias table, output projection (the peer at stage 3, "
            "whose offset kernel is 5).",
            "两者：DAT 可变形注意力，每头 32 通道，偏移分 2 组，偏移由 5x5 深度卷积、LayerNorm、GELU 与 1x1 卷积预测，范围"
            "系数 2，键和值在偏移后的参考点上双线性采样，相对位置偏置表，带输出投影（对照实现取第 3 个 stage，其偏移卷积核为 5）。",
        ),
        env="timm",  # the peer imports timm, which needs torchvision: it runs in the timm environment
    ),
    Pair(
        "mobilevit",
        "fightingcv",
        FCV + "MobileViTAttention:MobileViTAttention",
        lambda P, c, hw: (
            cvattn.create(
                "mobilevit",
                channels=c,
                transformer_dim=512,
                ffn_dim=1024,
                num_layers=3,
                num_heads=8,
                patch_size=2,
                norm_layer=nn.Identity,
                act_layer=nn.Identity,
            ),
            P(in_channel=c, dim=512, kernel_size=3, patch_size=2),
        ),
        text(
            "The peer fixes its transformer (3 layers, 8 heads of 64, FFN 1024) and has no BN or SiLU in its "
            "convolutions: ours built the same way (transformer_dim 512, FFN 1024, 3 layers, 8 heads, no norm "
            "and no activation in the convs), both on 2x2 patches with the 3x3 fusion conv. Left: the peer's "
            "convs have biases, ours none, and ours ends the transformer with a LayerNorm (the official block).",
            "对照实现的 transformer 是固定的（3 层、8 个 64 维的头、FFN 宽 1024），卷积中没有 BN 与 SiLU：我们的模块按同样"
            "方式构建（transformer_dim 512、FFN 1024、3 层、8 个头、卷积不带归一化与激活），两边都在 2x2 patch 上运算并有 "
            "3x3 融合卷积。剩余差异：对照实现的卷积带偏置，我们的没有；我们的 transformer 末尾有一个 LayerNorm（与官方块一致）。",
        ),
    ),
    # ------------------------------------------------------------------ re-parameterised, ConvNet and sampling blocks
    Pair(
        "repvgg",
        "timm",
        "timm.models.byobnet:RepVggBlock",
        lambda P, c, hw: (cvattn.create("repvgg", in_channels=c, out_channels=c, kernel_size=3), P(c, c, 3)),
        text(
            "Both: the training-time RepVGG block, a 3x3 conv with BN, a 1x1 conv with BN and an identity BN "
            "(C in = C out, stride 1), summed, ReLU; no bias in the convs, groups 1.",
            "两者：训练时的 RepVGG 块，3x3 卷积接 BN、1x1 卷积接 BN 与恒等 BN 分支（输入与输出通道相同、步长 1）相加后 "
            "ReLU；卷积无偏置，组数 1。",
        ),
    ),
    Pair(
        "repvgg",
        "fightingcv",
        "fightingcv_attention.rep.repvgg:RepBlock",
        lambda P, c, hw: (cvattn.create("repvgg", in_channels=c, out_channels=c, kernel_size=3), P(c, c)),
        text(
            "Both: a 3x3 conv with BN, a 1x1 conv with BN and an identity BN, summed, ReLU (the peer's RepBlock "
            "takes only a 3x3 kernel); no bias in the convs.",
            "两者：3x3 卷积接 BN、1x1 卷积接 BN 与恒等 BN 分支相加后 ReLU（对照实现的 RepBlock 只支持 3x3 卷积核）；卷积"
            "无偏置。",
        ),
    ),
    Pair(
        "mobileone-conv",
        "timm",
        "timm.models.byobnet:MobileOneBlock",
        lambda P, c, hw: (
            cvattn.create(
                "mobileone-conv", in_channels=c, out_channels=c, kernel_size=3, num_conv_branches=1
            ),
            P(c, c, kernel_size=3, num_conv_branches=1),
        ),
        text(
            "Both: one MobileOne conv at training time, a dense 3x3 conv with BN (k = 1 branch), a 1x1 'scale' "
            "conv with BN and an identity BN, summed, ReLU; no SE (timm: no attn layer). Left: timm adds the "
            "branches and applies ReLU in place.",
            "两者：训练时的一个 MobileOne 卷积，稠密 3x3 卷积接 BN（k = 1 个分支）、1x1 的 'scale' 卷积接 BN 与恒等 BN "
            "相加后 ReLU；不带 SE（timm 不设 attn 层）。剩余差异：timm 的分支相加与 ReLU 为原地运算。",
        ),
    ),
    Pair(
        "mobileone",
        "timm",
        "timm.models.byobnet:MobileOneBlock",
        lambda P, c, hw: (
            cvattn.create("mobileone", in_channels=c, out_channels=c, num_conv_branches=1),
            _timm_mobileone(P, c, branches=1),
        ),
        text(
            "Both: the MobileOne block, a depthwise 3x3 unit (3x3 and 1x1 depthwise convs with BN, identity BN, "
            "ReLU) then a pointwise unit (1x1 conv with BN, identity BN, ReLU), k = 1 branch, no SE; timm builds "
            "it from two MobileOneBlocks (group_size 1, then 1x1) as its MobileOne stages do. Left: timm adds "
            "in place.",
            "两者：MobileOne 块，先是深度 3x3 单元（3x3 与 1x1 深度卷积各接 BN、恒等 BN、ReLU），再是逐点单元（1x1 卷积接 "
            "BN、恒等 BN、ReLU），k = 1 个分支，不带 SE；timm 与其 MobileOne 各 stage 一样由两个 MobileOneBlock（group_size "
            "1，然后 1x1）组成。剩余差异：timm 的相加为原地运算。",
        ),
    ),
    Pair(
        "replknet",
        "timm",
        "timm.models.fastvit:ReparamLargeKernelConv",
        lambda P, c, hw: (
            cvattn.create("replknet", in_channels=c, out_channels=c, kernel_size=31, small_kernel=5),
            P(c, c, kernel_size=31, stride=1, group_size=1, small_kernel=5, act_layer=None),
        ),
        text(
            "Both: RepLKNet's re-parameterisable large-kernel conv, a depthwise 31x31 conv with BN plus a "
            "depthwise 5x5 conv with BN, summed, no activation (FastViT's layer in timm, built without its SE and "
            "activation, which are off by default).",
            "两者：RepLKNet 的可重参数化大核卷积，31x31 深度卷积接 BN 加上 5x5 深度卷积接 BN，两者相加，不带激活（timm 中 "
            "FastViT 的该层，不带其 SE 与激活，二者默认关闭）。",
        ),
    ),
    Pair(
        "repvit",
        "timm",
        "timm.models.repvit:RepViTBlock",
        lambda P, c, hw: (
            cvattn.create(
                "repvit", in_channels=c, out_channels=c, kernel_size=3, use_se=True, zero_init=True
            ),
            P(c, mlp_ratio=2, kernel_size=3, use_se=True, act_layer=nn.GELU),
        ),
        text(
            "Both: the stride-1 RepViT block, the token mixer BN(dw 3x3 conv-BN + dw 1x1 conv + x), SE with "
            "C/4 rounded to 8, then the channel mixer 1x1 conv-BN to 2C, GELU, 1x1 conv-BN back with the last BN "
            "weight at zero (ours zero_init=True, timm's bn_weight_init=0), on a residual.",
            "两者：步长 1 的 RepViT 块，token 混合器为 BN(深度 3x3 卷积-BN + 深度 1x1 卷积 + x)，SE 瓶颈为 C/4 取整到 8，"
            "之后通道混合器为 1x1 卷积-BN 到 2C、GELU、1x1 卷积-BN 回到 C，最后一个 BN 的权重初始为零（我们 zero_init=True，"
            "timm 为 bn_weight_init=0），带残差。",
        ),
    ),
    Pair(
        "convnext",
        "timm",
        "timm.models.convnext:ConvNeXtBlock",
        lambda P, c, hw: (
            cvattn.create("convnext", channels=c, kernel_size=7, mlp_ratio=4.0, layer_scale_init_value=1e-6),
            P(c, kernel_size=7, mlp_ratio=4, ls_init_value=1e-6, conv_mlp=False),
        ),
        text(
            "Both: the ConvNeXt block, a depthwise 7x7 conv with bias, LayerNorm over channels (eps 1e-6) and "
            "the inverted MLP C -> 4C -> C with GELU as Linear layers on channels-last tokens, layer scale "
            "1e-6, residual (timm's conv_mlp=False path, as the official block).",
            "两者：ConvNeXt 块，带偏置的 7x7 深度卷积，在通道上做 LayerNorm（eps 1e-6），倒置 MLP C -> 4C -> C（GELU）以 "
            "Linear 层作用于通道在后的 token，layer scale 1e-6，残差（timm 的 conv_mlp=False 路径，与官方块一致）。",
        ),
    ),
    Pair(
        "res2net",
        "timm",
        "timm.models.res2net:Bottle2neck",
        lambda P, c, hw: (
            cvattn.create("res2net", in_channels=c, out_channels=c, base_width=26, scale=4),
            P(c, c // 4, base_width=26, scale=4, norm_layer=nn.BatchNorm2d),
        ),
        text(
            "Both: the Res2Net bottleneck with expansion 4 (planes C/4), base width 26 and scale 4: a 1x1 conv "
            "to 4 x floor(26 C/256) channels, hierarchical 3x3 convs on three of the four splits (each adding the "
            "previous split's output), the fourth passed through, a 1x1 conv back to C, BN and ReLU after each "
            "conv, identity shortcut (timm's Bottle2neck has no default norm layer: built with BatchNorm2d).",
            "两者：扩展倍数 4（planes 为 C/4）、基础宽度 26、scale 4 的 Res2Net 瓶颈块：1x1 卷积到 4 x floor(26 C/256) "
            "通道，对四个分片中的三个做层级式 3x3 卷积（每个加上前一分片的输出），第四个直接通过，1x1 卷积回到 C，每个卷积后接 "
            "BN 与 ReLU，恒等捷径（timm 的 Bottle2neck 没有默认归一化层：以 BatchNorm2d 构建）。",
        ),
    ),
    Pair(
        "starnet",
        "timm",
        "timm.models.starnet:Block",
        lambda P, c, hw: (
            cvattn.create("starnet", channels=c, mlp_ratio=3, kernel_size=7),
            P(c, mlp_ratio=3),
        ),
        text(
            "Both: the StarNet block, a depthwise 7x7 conv with BN, two 1x1 convs to 3C multiplied element-wise "
            "(ReLU6 on one: the star operation), a 1x1 conv with BN back to C, a depthwise 7x7 conv, residual.",
            "两者：StarNet 块，7x7 深度卷积接 BN，两个 1x1 卷积升到 3C 后逐元素相乘（其中一路接 ReLU6：星运算），1x1 卷积接 "
            "BN 回到 C，再接 7x7 深度卷积，残差。",
        ),
    ),
    Pair(
        "mobilenetv2",
        "timm",
        "timm.models._efficientnet_blocks:InvertedResidual",
        lambda P, c, hw: (
            cvattn.create("mobilenetv2", in_channels=c, out_channels=c, expand_ratio=6.0, kernel_size=3),
            P(c, c, dw_kernel_size=3, exp_ratio=6.0, act_layer=nn.ReLU6),
        ),
        text(
            "Both: the MobileNetV2 inverted residual, a 1x1 conv to 6C with BN and ReLU6, a depthwise 3x3 conv "
            "with BN and ReLU6, a linear 1x1 conv back to C with BN, identity shortcut, no SE (timm's default "
            "activation is ReLU: set to ReLU6).",
            "两者：MobileNetV2 倒残差块，1x1 卷积升到 6C 接 BN 与 ReLU6，3x3 深度卷积接 BN 与 ReLU6，线性 1x1 卷积回到 C "
            "接 BN，恒等捷径，不带 SE（timm 默认激活为 ReLU：设为 ReLU6）。",
        ),
    ),
    Pair(
        "pconv",
        "timm",
        "timm.models.fasternet:Partial_conv3",
        lambda P, c, hw: (cvattn.create("pconv", channels=c, n_div=4, kernel_size=3), P(c, 4, "split_cat")),
        text(
            "Both: FasterNet's partial convolution, a bias-free 3x3 conv on the first C/4 channels, the other "
            "3C/4 passed through, split and concatenated (timm's 'split_cat' forward, the official training one).",
            "两者：FasterNet 的部分卷积，对前 C/4 个通道做无偏置 3x3 卷积，其余 3C/4 个通道直接通过，先切分后拼接（timm 的 "
            "'split_cat' 前向，即官方训练时所用）。",
        ),
    ),
    Pair(
        "pconv-block",
        "timm",
        "timm.models.fasternet:MLPBlock",
        lambda P, c, hw: (
            cvattn.create("pconv-block", channels=c, n_div=4, mlp_ratio=2.0, layer_scale_init_value=0.0),
            P(c, 4, 2.0, 0.0, 0.0, norm_layer=nn.BatchNorm2d),
        ),
        text(
            "Both: the FasterNet block, PConv (3x3 on C/4 channels, split and concatenated), 1x1 conv to 2C, BN, "
            "ReLU, 1x1 conv back to C, no layer scale and no drop path, residual. Left: timm's ReLU is in place.",
            "两者：FasterNet 块，PConv（对 C/4 个通道做 3x3 卷积，切分后拼接），1x1 卷积到 2C、BN、ReLU、1x1 卷积回到 C，"
            "不带 layer scale 与 drop path，残差。剩余差异：timm 的 ReLU 为原地运算。",
        ),
    ),
    Pair(
        "spd-conv",
        "timm",
        "timm.layers:SpaceToDepth",
        lambda P, c, hw: (
            cvattn.create("spd-conv", in_channels=c, out_channels=c, kernel_size=3, scale=4),
            nn.Sequential(P(block_size=4), _cls("timm.layers:ConvNormAct")(16 * c, c, 3, act_layer=nn.SiLU)),
        ),
        text(
            "Both: space-to-depth with block 4 (C x H x W -> 16C x H/4 x W/4; timm's SpaceToDepth takes no other "
            "block, the paper uses 2), then a non-strided 3x3 conv without bias to C, BN and SiLU; the peer is "
            "timm's SpaceToDepth followed by its ConvNormAct, as TResNet's stem uses them. Left: the 16 phases "
            "come in another order (SPD-Conv: the row offset varies fastest, timm: the column offset) and timm "
            "rearranges by one permute and copy where ours concatenates 16 strided slices.",
            "两者：块大小为 4 的 space-to-depth（C x H x W -> 16C x H/4 x W/4；timm 的 SpaceToDepth 只接受 4，论文用 2），"
            "再接无步长、无偏置的 3x3 卷积到 C、BN 与 SiLU；对照实现为 timm 的 SpaceToDepth 接其 ConvNormAct，与 TResNet "
            "的 stem 用法一致。剩余差异：16 个相位的顺序不同（SPD-Conv 行偏移变化最快，timm 为列偏移），且 timm 以一次 "
            "permute 与复制完成重排，而我们拼接 16 个带步长的切片。",
        ),
        applies=_divisible(
            4,
            why=text(
                "space-to-depth with block 4 needs H and W divisible by 4",
                "块大小为 4 的 space-to-depth 需要 H 与 W 能被 4 整除",
            ),
        ),
    ),
    Pair(
        "blurpool",
        "timm",
        "timm.layers:BlurPool2d",
        lambda P, c, hw: (
            cvattn.create("blurpool", channels=c, filter_size=3, stride=2, pad_type="reflect"),
            P(c, filt_size=3, stride=2, pad_mode="reflect"),
        ),
        text(
            "Both: a fixed 3x3 binomial filter ([1, 2, 1]^T [1, 2, 1] / 16) applied depthwise with stride 2 "
            "after reflection padding of 1 (timm's default filter; ours and the official default to 4, whose "
            "asymmetric padding timm cannot make).",
            "两者：固定的 3x3 二项式滤波器（[1, 2, 1]^T [1, 2, 1] / 16），在反射填充 1 之后以步长 2 做深度卷积（timm 的默认"
            "滤波器；我们与官方默认为 4，其不对称填充 timm 无法实现）。",
        ),
    ),
    Pair(
        "blurpool-max",
        "timm",
        "timm.layers:BlurPool2d",
        lambda P, c, hw: (
            cvattn.create("blurpool-max", channels=c, kernel_size=2, filter_size=3, stride=2),
            nn.Sequential(nn.MaxPool2d(2, stride=1), P(c, filt_size=3, stride=2)),
        ),
        text(
            "Both: MaxBlurPool, a dense 2x2 max-pool with stride 1, then the 3x3 binomial blur with stride 2 "
            "after reflection padding; timm has no class for it and builds it from nn.MaxPool2d and BlurPool2d "
            "where it anti-aliases a max-pool (its ResNet), as the peer here does.",
            "两者：MaxBlurPool，步长 1 的稠密 2x2 最大池化，之后在反射填充后以步长 2 做 3x3 二项式模糊；timm 没有对应的类，"
            "在需要抗混叠最大池化的地方（其 ResNet）用 nn.MaxPool2d 与 BlurPool2d 组合而成，这里的对照实现也是如此。",
        ),
    ),
    Pair(
        "involution",
        "fightingcv",
        "fightingcv_attention.conv.Involution:Involution",
        lambda P, c, hw: (
            cvattn.create("involution", channels=c, kernel_size=7, reduction=4, group_channels=16),
            P(kernel_size=7, in_channel=c, group=c // 16, ratio=4),
        ),
        text(
            "Both: 7x7 involution with C/16 groups (16 channels a group, as the official code), the kernel "
            "generated per position by a 1x1 conv to C/4 with BN and ReLU and a 1x1 conv to G * 49, applied to "
            "the unfolded 7x7 neighbourhoods. Left: the peer's reducing 1x1 conv has a bias (before a BN).",
            "两者：7x7 的 involution，分 C/16 组（与官方代码一样每组 16 个通道），每个位置的卷积核由 1x1 卷积降到 C/4 "
            "（接 BN 与 ReLU）再由 1x1 卷积升到 G * 49 生成，作用于展开的 7x7 邻域。剩余差异：对照实现降维的 1x1 卷积带偏置"
            "（其后还有 BN）。",
        ),
    ),
    Pair(
        "csra",
        "fightingcv",
        FCV + "ResidualAttention:ResidualAttention",
        lambda P, c, hw: (
            cvattn.create("csra", channels=c, num_classes=20, lam=0.2, temperatures=(math.inf,)),
            P(channel=c, num_class=20, la=0.2),
        ),
        text(
            "Both: class-specific residual attention with one max-pooling head (T = infinity; ours built with "
            "temperatures=(inf,), since its one-head default is the paper's T = 1 softmax head, which the peer "
            "does not have) on 20 classes (PASCAL VOC) and lambda 0.2 (the peer's): per-class scores by a "
            "bias-free 1x1 conv, mean over the map plus lambda times the maximum; the output is (N, classes). "
            "Left: ours divides the class weights by their norm first (the official code), the peer does not.",
            "两者：类别特定残差注意力，单个最大池化头（T = 无穷大；我们的模块以 temperatures=(inf,) 构建，因为其单头默认是"
            "论文中 T = 1 的 softmax 头，对照实现没有该头），20 个类别（PASCAL VOC），lambda 0.2（对照实现的取值）：由无偏置的 "
            "1x1 卷积给出每类得分，全图平均加上 lambda 倍的最大值；输出为 (N, 类别数)。剩余差异：我们先把类别权重除以其范数"
            "（与官方代码一致），对照实现不做。",
        ),
    ),
    Pair(
        "abd-net-pam",
        "fightingcv",
        FCV + "DANet:PositionAttentionModule",
        _as_danet("abd-net-pam", "danet-pam", reduction=8),
        text(
            "ABD-Net's PAM is DANet's (the official file is DANet's da_att.py): the peer is aligned as for "
            "danet-pam (its KxK conv removed, attention rebuilt with d_k = C/8, d_v = C, no output projection, no "
            "dropout). Left: the peer scales the logits by 1/sqrt(d_k) and has no gamma-weighted residual.",
            "ABD-Net 的 PAM 即 DANet 的 PAM（官方文件就是 DANet 的 da_att.py）：对照实现按 danet-pam 的方式对齐（去掉 KxK "
            "卷积，注意力重建为 d_k = C/8、d_v = C，无输出投影，无 dropout）。剩余差异：对照实现把 logits 乘以 1/sqrt(d_k)，"
            "也没有乘 gamma 的残差。",
        ),
    ),
    Pair(
        "abd-net-cam",
        "fightingcv",
        FCV + "DANet:ChannelAttentionModule",
        _as_danet("abd-net-cam", "danet-cam"),
        text(
            "ABD-Net's CAM is DANet's: the peer is aligned as for danet-cam (its KxK conv, HW x HW output linear "
            "and dropout removed, the residual x + gamma * out added). Left: the peer scales the energy by "
            "1/sqrt(HW) where ABD-Net takes max - energy.",
            "ABD-Net 的 CAM 即 DANet 的 CAM：对照实现按 danet-cam 的方式对齐（去掉 KxK 卷积、HW x HW 的输出线性层与 "
            "dropout，并补上残差 x + gamma * out）。剩余差异：对照实现把能量乘以 1/sqrt(HW)，而 ABD-Net 取 max - energy。",
        ),
    ),
]


def _not(module_id: str | None, peer: str, peer_name: str, en: str, zh: str) -> dict[str, Any]:
    return {"id": module_id, "peer": peer, "peer_path": peer_name, "reason": text(en, zh)}


NOT_COUNTERPARTS: list[dict[str, Any]] = [
    _not(
        "cotnet",
        "fightingcv",
        FCV + "CoTAttention:CoTAttention",
        "A simplified CoT: the k x k attention weights are averaged over the window and softmax-normalised over "
        "all H*W positions, instead of CoT's local k x k aggregation and split-attention fusion; it computes "
        "something else (and less), so no configuration of the two is alike.",
        "简化版的 CoT：把 k x k 注意力权重在窗口内取平均，再在全部 H*W 个位置上做 softmax，而不是 CoT 的局部 k x k "
        "聚合与 split-attention 融合；它计算的是另一种（更少的）东西，两者无法配置成相同。",
    ),
    _not(
        "epsanet",
        "fightingcv",
        FCV + "PSA:PSA",
        "The peer convolves each of the S = 4 channel splits of the input on its own with ungrouped 3, 5, 7, 9 "
        "kernels and one SE per split, where EPSANet's official code (and cvattn) convolves the whole input "
        "with grouped kernels (groups 1, 4, 8, 16) and one shared SE: another computation. It also writes its "
        "branch outputs into a view of its input, which autograd rejects when the input needs a gradient.",
        "对照实现把输入的 S = 4 个通道分片各自用不分组的 3、5、7、9 卷积核卷积，每片一个 SE；而 EPSANet 官方代码（以及 "
        "cvattn）对整个输入使用分组卷积（组数 1、4、8、16）并共享一个 SE：计算不同。它还把各分支输出写回输入的视图，"
        "当输入需要梯度时 autograd 会拒绝这种写法。",
    ),
    _not(
        "residual-attention",
        "fightingcv",
        FCV + "ResidualAttention:ResidualAttention",
        "Class-specific residual attention (CSRA, ICCV 2021) for multi-label classification, not the attention "
        "module of the Residual Attention Network (CVPR 2017) that cvattn implements; it is compared with "
        "cvattn's csra instead.",
        "这是用于多标签分类的类别特定残差注意力（CSRA，ICCV 2021），不是 cvattn 实现的残差注意力网络（CVPR 2017）中的"
        "注意力模块；改为与 cvattn 的 csra 比较。",
    ),
    _not(
        "axial-deeplab",
        "fightingcv",
        FCV + "Axial_attention:AxialImageTransformer",
        "Axial attention of 'Axial Attention in Multidimensional Transformers' (Ho et al.): plain multi-head "
        "attention along each axis, without Axial-DeepLab's position-sensitive query, key and value terms.",
        "这是《Axial Attention in Multidimensional Transformers》（Ho 等）的轴向注意力：沿每个轴做普通多头注意力，没有 "
        "Axial-DeepLab 中对查询、键、值的位置敏感项。",
    ),
    _not(
        "mobilevitv2",
        "fightingcv",
        FCV + "MobileViTv2Attention:MobileViTv2Attention",
        "Only the separable self-attention on (N, L, C) tokens; cvattn's module is the whole MobileViTv2 block "
        "(local convs, unfolding into patches, two layers with norms and FFNs, projection), which the peer has "
        "no part for. timm's MobileVitV2Block is compared instead.",
        "只有作用于 (N, L, C) token 的可分离自注意力；cvattn 的模块是完整的 MobileViTv2 块（局部卷积、展开成 patch、"
        "两层带归一化和 FFN 的注意力、投影），对照实现没有这些部分。改为与 timm 的 MobileVitV2Block 比较。",
    ),
    _not(
        "effnet",
        "fightingcv",
        "fightingcv_attention.conv.MBConv:MBConvBlock",
        "EfficientNet's MBConv block, not the EffNet block (Freeman et al., 2018) of the same-sounding id.",
        "这是 EfficientNet 的 MBConv 块，不是 id 名称相近的 EffNet 块（Freeman 等，2018）。",
    ),
    _not(
        "gmlp",
        "fightingcv",
        "fightingcv_attention.mlp.g_mlp:gMLP",
        "A whole gMLP language model (token embedding, stacked layers, classifier) whose gating LayerNorm is "
        "sized for d_model instead of d_ff / 2, so it runs only when d_ff = 2 d_model; timm's "
        "SpatialGatingBlock is compared instead.",
        "这是完整的 gMLP 语言模型（token 嵌入、堆叠层、分类器），其门控 LayerNorm 的宽度按 d_model 而不是 d_ff / 2 设置，"
        "只有 d_ff = 2 d_model 时才能运行；改为与 timm 的 SpatialGatingBlock 比较。",
    ),
    _not(
        "crossformer-sda",
        "fightingcv",
        FCV + "Crossformer:CrossFormerBlock",
        "The peer's CrossFormer attention is reachable only through its whole block (LayerNorms, MLP, residuals) "
        "for a fixed input resolution, with no call for the attention of a partitioned map alone; not aligned, "
        "so not timed (the same holds for crossformer-lda).",
        "对照实现的 CrossFormer 注意力只能通过整个块（LayerNorm、MLP、残差，且输入分辨率固定）调用，没有只对划分后的特征图"
        "做注意力的接口；无法对齐，因此不计时（crossformer-lda 同理）。",
    ),
    _not(
        "mobileone",
        "fightingcv",
        "fightingcv_attention.rep.mobileone",
        "The package's rep/mobileone.py is an empty file: there is no MobileOne class to time; timm's "
        "MobileOneBlock is compared instead (mobileone and mobileone-conv).",
        "该包的 rep/mobileone.py 是空文件：没有可计时的 MobileOne 类；改为与 timm 的 MobileOneBlock 比较（mobileone 与 "
        "mobileone-conv）。",
    ),
    _not(
        "dbb",
        "fightingcv",
        "fightingcv_attention.rep.ddb:transVI_conv_scale",
        "rep/ddb.py holds only kernel transforms of the DBB paper (conv-BN folding, branch addition, sequential "
        "1x1-KxK merging, concatenation, average pooling as a conv, multi-scale padding) as functions and a "
        "demo; there is no Diverse Branch Block module (and timm has none).",
        "rep/ddb.py 只以函数形式提供 DBB 论文中的卷积核变换（卷积-BN 折叠、分支相加、1x1-KxK 串联合并、拼接、平均池化转"
        "卷积、多尺度填充）及一个演示；没有 Diverse Branch Block 模块（timm 也没有）。",
    ),
    _not(
        "mobilenetv2",
        "fightingcv",
        "fightingcv_attention.conv.MBConv:MBConvBlock",
        "EfficientNet's MBConv: an SE (ratio 0.25) and Swish are fixed in its forward, with TF 'same' padding "
        "sized for a fixed image; the MobileNetV2 inverted residual has neither SE nor Swish (ReLU6). timm's "
        "InvertedResidual is compared instead.",
        "这是 EfficientNet 的 MBConv：其前向中固定带 SE（比例 0.25）与 Swish，并使用按固定图像尺寸计算的 TF 'same' "
        "填充；MobileNetV2 的倒残差块既无 SE 也无 Swish（用 ReLU6）。改为与 timm 的 InvertedResidual 比较。",
    ),
    _not(
        "dsconv",
        "fightingcv",
        "fightingcv_attention.conv.DepthwiseSeparableConvolution:DepthwiseSeparableConvolution",
        "A depthwise separable convolution (compared with cvattn's mobilenet), not Dynamic Snake Convolution of "
        "the same abbreviation; the same holds for timm's efficientvit_mit DSConv. Neither library has a snake "
        "(deformable, curvilinear) convolution.",
        "这是深度可分离卷积（已与 cvattn 的 mobilenet 比较），不是缩写相同的动态蛇形卷积；timm 的 efficientvit_mit "
        "DSConv 也是如此。两个库都没有蛇形（可变形、沿曲线）卷积。",
    ),
    _not(
        "odconv",
        "fightingcv",
        "fightingcv_attention.conv.DynamicConv:DynamicConv",
        "Dynamic convolution with attention over the kernel axis only (a softmax over K kernels; compared with "
        "cvattn's dynamic-conv), where ODConv also attends over the spatial, input-channel and output-channel "
        "axes of each kernel; KernelWarehouse, WeightNet and DRConv are other computations again. timm's "
        "CondConv2d is CondConv (compared with cvattn's condconv).",
        "这是只在卷积核维度上做注意力的动态卷积（在 K 个卷积核之间 softmax；已与 cvattn 的 dynamic-conv 比较），而 "
        "ODConv 还在每个卷积核的空间、输入通道与输出通道维度上做注意力；KernelWarehouse、WeightNet 与 DRConv 又是"
        "另外的计算。timm 的 CondConv2d 是 CondConv（已与 cvattn 的 condconv 比较）。",
    ),
    _not(
        "restormer-mdta",
        "timm",
        "timm.models.xcit:XCA",
        "XCiT's cross-covariance attention is transposed (channel) attention like MDTA, but its queries, keys "
        "and values come from one Linear on tokens, where MDTA's come from a 1x1 conv followed by a 3x3 "
        "depthwise conv on the map (the local context MDTA adds), and the output projection differs likewise: "
        "no configuration of XCA computes MDTA.",
        "XCiT 的交叉协方差注意力与 MDTA 一样是转置（通道）注意力，但其查询、键、值由 token 上的一个 Linear 得到，而 MDTA "
        "的由 1x1 卷积再接特征图上的 3x3 深度卷积得到（即 MDTA 引入的局部上下文），输出投影也同样不同：XCA 的任何配置都"
        "算不出 MDTA。",
    ),
    _not(
        "replknet-block",
        "timm",
        "timm.models.fastvit:RepMixerBlock",
        "FastViT's RepMixer block mixes tokens with a re-parameterised depthwise 3x3 (x + BN(dw(x)) - BN(x)) and "
        "a ConvFFN; RepLKNet's block is BN, 1x1 conv, the 31x31 large-kernel conv, 1x1 conv on a residual. Only "
        "the large-kernel conv itself has a timm counterpart (ReparamLargeKernelConv, compared with replknet).",
        "FastViT 的 RepMixer 块以可重参数化的 3x3 深度卷积（x + BN(dw(x)) - BN(x)）与 ConvFFN 混合 token；RepLKNet "
        "的块是 BN、1x1 卷积、31x31 大核卷积、1x1 卷积加残差。只有大核卷积本身在 timm 中有对应（ReparamLargeKernelConv，"
        "已与 replknet 比较）。",
    ),
    _not(
        None,
        "timm",
        "timm.models.vision_transformer:Attention",
        "No timm or fightingcv-attention class implements the video modules (tsm, tin, tam, jstpn, timesformer, "
        "vivit, vivit-dot-product, video-swin, video-swin-shifted, motionformer, xvit): both are image "
        "libraries, whose attentions (ViT's Attention, Swin's 2-D WindowAttention) mix the tokens of one image; "
        "these modules shift, interlace or attend across the frames of a clip (N, C, T, H, W) (jstpn pools a "
        "probe and a gallery sequence), which is not a single (N, C, H, W) map, so they are not timed.",
        "timm 与 fightingcv-attention 中都没有实现视频模块（tsm、tin、tam、jstpn、timesformer、vivit、vivit-dot-product、"
        "video-swin、video-swin-shifted、motionformer、xvit）的类：两者都是图像库，其注意力（ViT 的 Attention、Swin 的"
        "二维 WindowAttention）只在一张图像的 token 之间混合；这些模块在片段 (N, C, T, H, W) 的各帧之间平移、交错或做注意力"
        "（jstpn 对查询序列与图库序列做池化），输入不是单张 (N, C, H, W) 特征图，因此不计时。",
    ),
    _not(
        None,
        "fightingcv",
        "fightingcv_attention",
        "Neither timm 1.0.31 nor fightingcv-attention has a class for these image modules, so they are not "
        "timed: octconv (and its first and last layers), scconv (and its SRU and CRU), emo, weightnet (and "
        "weightnet-dw), kernelwarehouse, ddf (and ddf-up), drconv, sac, dynamic-relu (and dynamic-relu-a, "
        "dynamic-relu-c), carafe, dysample, restormer-gdfn, nafnet (and its SCA and SimpleGate), mhn; seam and show-attend-tell "
        "also take a second input (class maps, a decoder state) beside the map, and dynamic-head takes a "
        "feature pyramid.",
        "timm 1.0.31 与 fightingcv-attention 中都没有这些图像模块的对应类，因此不计时：octconv（及其首层与末层）、scconv"
        "（及其 SRU 与 CRU）、emo、weightnet（及 weightnet-dw）、kernelwarehouse、ddf（及 ddf-up）、drconv、sac、"
        "dynamic-relu（及 dynamic-relu-a、dynamic-relu-c）、carafe、dysample、restormer-gdfn、nafnet（及其 SCA 与 SimpleGate）、mhn；seam 与 show-attend-tell 除特征图外还需要第二个输入（类别图、解码器"
        "状态），dynamic-head 的输入是特征金字塔。",
    ),
    _not(
        None,
        "fightingcv",
        FCV + "AFT:AFT_FULL",
        "No cvattn module implements this mechanism (AFT, MUSE, UFO, S2-MLP, MOA, CoAtNet, RepMLP, ResMLP, sMLP, "
        "simplified self-attention: none is in the registry).",
        "cvattn 中没有实现该机制的模块（AFT、MUSE、UFO、S2-MLP、MOA、CoAtNet、RepMLP、ResMLP、sMLP、简化自注意力均不在"
        "注册表中）。",
    ),
    _not(
        None,
        "timm",
        "timm.layers:CecaModule",
        "No cvattn module implements these timm layers (circular ECA, light CBAM, attention pooling, the "
        "transformer attentions of LeViT, EfficientFormer, CoaT, ConViT, MViTv2, Hiera and others).",
        "cvattn 中没有实现这些 timm 层的模块（circular ECA、轻量 CBAM、注意力池化，以及 LeViT、EfficientFormer、CoaT、"
        "ConViT、MViTv2、Hiera 等模型中的 transformer 注意力）。",
    ),
]
