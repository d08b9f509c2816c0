"""Lightweight multi-scale linear attention (LiteMLA) of EfficientViT (MIT).

Paper: "EfficientViT: Lightweight Multi-Scale Attention for High-Resolution Dense Prediction", Han Cai, Junyan
Li, Muyan Hu, Chuang Gan, Song Han, ICCV 2023, https://arxiv.org/abs/2205.14756. Official code:
https://github.com/mit-han-lab/efficientvit (``efficientvit/models/nn/ops.py``, ``LiteMLA``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input, create_act, match_memory_format


@register("efficientvit", kind="attention", inputs=(64, 14, 14), channels=64, dim=16)
class LiteMLA(nn.Module):
    """EfficientViT LiteMLA: ReLU linear attention on queries, keys and values aggregated at several scales.

    A 1x1 convolution gives ``q, k, v`` (``heads`` groups of ``dim`` channels each). Every scale ``s`` adds
    a depthwise ``s x s`` convolution followed by a grouped 1x1 convolution (one group per head and per
    q/k/v) of the same tensor, so there are ``G = heads * (1 + len(scales))`` groups. Each group attends
    with the ReLU kernel instead of the softmax:
    ``o_i = sum_j (relu(q_i) . relu(k_j)) v_j / (sum_j relu(q_i) . relu(k_j) + eps)``, computed in the linear
    order ``(V relu(K)^T) relu(Q)``. The groups are concatenated and projected by a 1x1 conv + BatchNorm.
    Memory grows linearly with ``H*W`` (the ``dim x dim`` context of a group does not depend on the size).

    Args:
        channels: input and output channels ``C``.
        heads: number of heads; ``None`` takes ``channels // dim * heads_ratio`` (official default None).
        heads_ratio: heads per ``channels // dim`` when ``heads`` is None (1.0).
        dim: channels per head ``d`` (class default 8; the EfficientViT-B0/B1 models use 16, B2/B3 32).
        use_bias: bias in every convolution (False).
        norm_layer: normalisation after the output projection (BatchNorm2d).
        kernel_func: the non-negative kernel applied to queries and keys (``"relu"``).
        scales: kernel sizes of the multi-scale aggregation branches (``(5,)``).
        eps: added to the normaliser (1e-15).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> mla = cvattn.create("efficientvit", channels=64, dim=16)
        >>> mla(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Output channels equal the input channels (the official class takes ``out_channels``); the official
        code switches to the mathematically equal quadratic form when ``H * W <= dim``, this module always
        uses the linear form, and it keeps the input's dtype instead of upcasting half precision.

    Reference:
        Cai, Li, Hu, Gan, Han. EfficientViT: Lightweight Multi-Scale Attention for High-Resolution Dense
        Prediction. ICCV 2023.
    """

    def __init__(
        self,
        channels: int,
        heads: int | None = None,
        heads_ratio: float = 1.0,
        dim: int = 8,
        use_bias: bool = False,
        norm_layer: LayerType = nn.BatchNorm2d,
        kernel_func: LayerType = "relu",
        scales: Sequence[int] = (5,),
        eps: float = 1.0e-15,
    ) -> None:
        super().__init__()
        heads = int(channels // dim * heads_ratio) if heads is None else heads
        if heads < 1 or dim < 1:
            raise ValueError(f"need at least one head of at least one channel, got heads={heads}, dim={dim}")
        if any(s < 1 or s % 2 == 0 for s in scales):
            raise ValueError(f"scales must be odd positive kernel sizes, got {tuple(scales)}")
        self.channels, self.heads, self.dim, self.eps = channels, heads, dim, eps
        total = heads * dim
        self.qkv = ConvNormAct(channels, 3 * total, 1, bias=use_bias, norm_layer=None, act_layer=None)
        self.aggreg = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(3 * total, 3 * total, s, padding=s // 2, groups=3 * total, bias=use_bias),
                nn.Conv2d(3 * total, 3 * total, 1, groups=3 * heads, bias=use_bias),
            )
            for s in scales
        )
        self.kernel_func = create_act(kernel_func)
        self.proj = ConvNormAct(
            total * (1 + len(scales)), channels, 1, bias=use_bias, norm_layer=norm_layer, act_layer=None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, d = x.size(0), self.dim
        qkv = self.qkv(x)
        qkv = torch.cat([qkv] + [agg(qkv) for agg in self.aggreg], dim=1)  # (N, 3 G d, H, W)
        qkv = qkv.reshape(n, -1, 3 * d, x.size(2) * x.size(3))  # (N, G, 3d, HW)
        q, k, v = qkv.split(d, dim=2)  # each (N, G, d, HW)
        q, k = self.kernel_func(q), self.kernel_func(k)
        context = torch.matmul(v, k.transpose(-1, -2))  # (N, G, d_v, d_k)
        numerator = torch.matmul(context, q)  # (N, G, d_v, HW)
        normaliser = torch.matmul(k.sum(dim=-1, keepdim=True).transpose(-1, -2), q)  # (N, G, 1, HW)
        out = numerator / (normaliser + self.eps)
        out = self.proj(out.reshape(n, -1, x.size(2), x.size(3)))
        return match_memory_format(out, x)
