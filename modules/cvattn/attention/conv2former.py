"""Convolutional modulation of Conv2Former.

Paper: "Conv2Former: A Simple Transformer-Style ConvNet for Visual Recognition", Qibin Hou, Cheng-Ze Lu,
Ming-Ming Cheng, Jiashi Feng, TPAMI 2024, https://doi.org/10.1109/TPAMI.2024.3401450 (arXiv:2211.11943).
Official code: https://github.com/HVision-NKU/Conv2Former (``models/conv2former.py``, ``SpatialAttention``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act, match_memory_format
from ..tokens import from_channels_last, to_channels_last


@register("conv2former", kind="attention", inputs=(64, 14, 14), channels=64, kernel_size=11)
class ConvModulation(nn.Module):
    """Conv2Former's convolutional modulation: a large depthwise convolution plays the attention map and
    modulates a linear value branch by an element-wise product.

    With ``x' = LN(x)`` (layer norm over channels), ``A = DWConv_{k x k}(GELU(W_1 x'))``, ``V = W_2 x'`` and the
    output ``W_3 (A * V)``, where ``W_1``, ``W_2``, ``W_3`` are 1x1 convolutions. Each position is thus
    re-weighted by a ``k x k`` neighbourhood, as in self-attention but without a softmax and without pairwise
    products. Memory grows with ``H*W*C`` (linear in the number of pixels).

    Args:
        channels: channels ``C``.
        kernel_size: depthwise kernel size ``k``, odd (Conv2Former-T/S/B/L: 11; N and B-22K: 7).
        act_layer: activation between ``W_1`` and the depthwise convolution (GELU).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> cm = cvattn.create("conv2former", channels=64, kernel_size=11)
        >>> cm(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Reference:
        Hou, Lu, Cheng, Feng. Conv2Former: A Simple Transformer-Style ConvNet for Visual Recognition. TPAMI 2024.
    """

    def __init__(self, channels: int, kernel_size: int = 11, act_layer: LayerType = nn.GELU) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and positive, got {kernel_size}")
        self.channels = channels
        self.norm = nn.LayerNorm(channels, eps=1e-6)
        self.att = nn.Sequential(
            nn.Conv2d(channels, channels, 1),
            create_act(act_layer),
            nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2, groups=channels),
        )
        self.v = nn.Conv2d(channels, channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        xn = match_memory_format(from_channels_last(self.norm(to_channels_last(x))), x)  # LN over channels
        a = self.att(xn)  # the "attention map": (N, C, H, W)
        v = self.v(xn)
        return self.proj(a * v)
