"""Contextual Transformer (CoT) block of CoTNet.

Paper: "Contextual Transformer Networks for Visual Recognition", Yehao Li, Ting Yao, Yingwei Pan, Tao Mei,
TPAMI 2022, https://arxiv.org/abs/2107.12292. Official code: https://github.com/JDAI-CV/CoTNet
(``models/cotnet.py``, ``CotLayer``; the local aggregation is ``cupy_layers/aggregation_zeropad.py``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import BatchNormAnyBatch2d, LayerType, check_input, create_act, match_memory_format


@register("cotnet", kind="attention", inputs=(64, 14, 14), channels=64)
class CoT(nn.Module):
    """CoT block: local attention whose weights come from the query and a convolutionally contextualised key.

    The keys are first contextualised by a ``k x k`` grouped convolution (BN, ReLU): the *static* context
    ``K1``. The attention weights come from the concatenation ``[K1, X]`` through two 1x1 convolutions
    (BN and ReLU between them, GroupNorm after): ``A = theta(delta([K1, X]))``, one ``k x k`` kernel per
    position for each of ``C / share_planes`` channel groups (channel ``c`` uses weight ``c mod
    C/share_planes``). The values ``V = BN(W_v X)`` are aggregated over each ``k x k`` neighbourhood with
    these weights (zero padding), ``K2 = SiLU(BN(A * V))``: the *dynamic* context. The output fuses both
    as split attention: ``s = MLP(GAP(K1 + K2))``, a softmax over the two branches per channel, ``Y = a_1
    K1 + a_2 K2``. Memory grows with ``H*W*C*k^2 / share_planes`` for the attention weights.

    Args:
        channels: input and output channels ``C``.
        kernel_size: neighbourhood ``k`` of the key embedding and the aggregation (CoTNet: 3).
        key_groups: groups of the key embedding convolution (official: 4).
        share_planes: channels sharing one attention kernel, ``C / share_planes`` kernels per position
            (official: 8).
        factor: width reduction of the first attention 1x1 convolution, ``C / factor`` (official: 2).
        reduction: width of the fusion MLP, ``max(2 C / reduction, min_attn_channels)`` (official: 4).
        min_attn_channels: lower bound of the fusion MLP's width (official: 32).
        act_layer: activation after the aggregation (official: swish, i.e. SiLU).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> cot = cvattn.create("cotnet", channels=64)
        >>> cot(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The local aggregation is written with ``F.unfold`` instead of the official CuPy CUDA kernel (which
        computes the same sum; the official file's own test compares it with an unfold formula). The
        BatchNorm of the fusion MLP, which sees one value per channel per sample, falls back to its
        running statistics for a batch of one in training mode, where ``nn.BatchNorm2d`` raises.

    Reference:
        Li, Yao, Pan, Mei. Contextual Transformer Networks for Visual Recognition. TPAMI 2022.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int = 3,
        key_groups: int = 4,
        share_planes: int = 8,
        factor: int = 2,
        reduction: int = 4,
        min_attn_channels: int = 32,
        act_layer: LayerType = nn.SiLU,
    ) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size ({kernel_size}) must be odd and positive")
        for name, div in (("key_groups", key_groups), ("share_planes", share_planes), ("factor", factor)):
            if div < 1 or channels % div:
                raise ValueError(f"channels ({channels}) must be divisible by {name} ({div})")
        if reduction < 1:
            raise ValueError(f"reduction ({reduction}) must be positive")
        self.channels, self.kernel_size = channels, kernel_size
        self.weight_channels = channels // share_planes  # attention kernels per position
        k2 = kernel_size * kernel_size
        self.key_embed = nn.Sequential(
            nn.Conv2d(
                channels, channels, kernel_size, padding=kernel_size // 2, groups=key_groups, bias=False
            ),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        )
        mid = channels // factor
        self.embed = nn.Sequential(
            nn.Conv2d(2 * channels, mid, 1, bias=False),
            nn.BatchNorm2d(mid),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, k2 * self.weight_channels, 1),
            nn.GroupNorm(self.weight_channels, k2 * self.weight_channels),
        )
        self.value_embed = nn.Sequential(
            nn.Conv2d(channels, channels, 1, bias=False), nn.BatchNorm2d(channels)
        )
        self.bn = nn.BatchNorm2d(channels)
        self.act = create_act(act_layer, inplace=True)
        attn_channels = max(channels * 2 // reduction, min_attn_channels)
        self.se = nn.Sequential(
            nn.Conv2d(channels, attn_channels, 1),
            BatchNormAnyBatch2d(attn_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(attn_channels, 2 * channels, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h, w = x.shape
        kk, cw = self.kernel_size * self.kernel_size, self.weight_channels
        k1 = self.key_embed(x)  # static context
        attn = self.embed(torch.cat([x, k1], dim=1)).view(n, 1, cw, kk, h, w)  # (N, 1, C/s, k^2, H, W)
        v = self.value_embed(x)
        v = F.unfold(v, self.kernel_size, padding=(self.kernel_size - 1) // 2)  # (N, C k^2, HW)
        v = v.view(n, c // cw, cw, kk, h, w)  # channel g * C/s + j uses kernel j
        k2 = self.act(self.bn((attn * v).sum(3).reshape(n, c, h, w)))  # dynamic context
        branches = torch.stack([k2, k1], dim=2)  # (N, C, 2, H, W)
        s = self.se(branches.sum(2).mean((2, 3), keepdim=True))  # (N, 2C, 1, 1)
        a = s.view(n, c, 2).softmax(dim=2)  # one softmax over the two branches per channel
        y = (branches * a.view(n, c, 2, 1, 1)).sum(2)
        return match_memory_format(y, x)
