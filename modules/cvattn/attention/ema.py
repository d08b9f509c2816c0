"""Efficient multi-scale attention (EMA) with cross-spatial learning.

Paper: "Efficient Multi-Scale Attention Module with Cross-Spatial Learning", Daliang Ouyang, Su He, Guozhong
Zhang, Mingzhu Luo, Huaiyong Guo, Jian Zhan, Zhijie Huang, ICASSP 2023, https://arxiv.org/abs/2305.13563.
Official code: https://github.com/YOLOonMe/EMA-attention-module (file ``EMA_attention_module``, ``EMA``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format


@register("ema", kind="attention", inputs=(64, 14, 14), channels=64)
class EMA(nn.Module):
    """EMA: grouped coordinate gating and a 3x3 branch that weight each other's pixels across space.

    The channels are split into ``G`` groups folded into the batch, ``x_g`` with ``C/G`` channels.
    1x1 branch: directional averages ``p_h`` (over the width) and ``p_w`` (over the height) pass one
    shared 1x1 conv, ``x1 = GN(x_g * sigmoid(W p_h) * sigmoid(W p_w))`` (GroupNorm with one channel a
    group). 3x3 branch: ``x2 = Conv3x3(x_g)``. Cross-spatial learning: each branch's global average,
    softmax over its channels, weights the other branch's pixels,
    ``w = softmax(GAP(x1))^T x2 + softmax(GAP(x2))^T x1`` (one value per position); output
    ``x_g * sigmoid(w)``, regrouped. No channel reduction is used. Memory grows linearly with ``H*W``.

    Args:
        channels: input channels ``C``; must be divisible by ``factor``.
        factor: number of groups ``G`` (official 32).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> ema = cvattn.create("ema", channels=64)
        >>> ema(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The shared 1x1 conv is applied to ``p_h`` and ``p_w`` separately instead of to their
        concatenation (the same numbers, since the conv is pointwise). The official unused ``c2``
        argument is not provided.

    Reference:
        Ouyang, He, Zhang, Luo, Guo, Zhan, Huang. Efficient Multi-Scale Attention Module with
        Cross-Spatial Learning. ICASSP 2023.
    """

    def __init__(self, channels: int, factor: int = 32) -> None:
        super().__init__()
        if factor < 1 or channels % factor:
            raise ValueError(f"channels ({channels}) must be divisible by factor ({factor})")
        self.channels, self.groups = channels, factor
        group_channels = channels // factor
        self.gn = nn.GroupNorm(group_channels, group_channels)
        self.conv1x1 = nn.Conv2d(group_channels, group_channels, 1)
        self.conv3x3 = nn.Conv2d(group_channels, group_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        g = self.groups
        xg = x.reshape(x.size(0) * g, self.channels // g, x.size(2), x.size(3))  # (N*G, C/G, H, W)
        p_h = xg.mean(3, keepdim=True)  # (N*G, C/G, H, 1)
        p_w = xg.mean(2, keepdim=True)  # (N*G, C/G, 1, W)
        x1 = self.gn(xg * torch.sigmoid(self.conv1x1(p_h)) * torch.sigmoid(self.conv1x1(p_w)))
        x2 = self.conv3x3(xg)
        s1 = torch.softmax(x1.mean((2, 3)), dim=-1).unsqueeze(1)  # (N*G, 1, C/G)
        s2 = torch.softmax(x2.mean((2, 3)), dim=-1).unsqueeze(1)
        w = s1 @ x2.flatten(2) + s2 @ x1.flatten(2)  # cross-spatial weights: (N*G, 1, HW)
        y = xg * torch.sigmoid(w).reshape_as(xg[:, :1])
        return match_memory_format(y.reshape(x.shape), x)
