"""Large kernel attention (LKA) of the Visual Attention Network.

Paper: "Visual Attention Network", Meng-Hao Guo, Cheng-Ze Lu, Zheng-Ning Liu, Ming-Ming Cheng, Shi-Min Hu,
Computational Visual Media 2023, https://doi.org/10.1007/s41095-023-0364-2 (arXiv:2202.09741).
Official code: https://github.com/Visual-Attention-Network/VAN-Classification (``models/van.py``: ``LKA``, and
``Attention`` for the spatial gating unit wrapped in projections).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act


@register("van", kind="attention", inputs=(64, 14, 14), channels=64)
class LargeKernelAttention(nn.Module):
    """Large kernel attention: a decomposed 21x21 depthwise convolution whose output gates the input.

    A ``K x K`` convolution (``K = 21``) is decomposed into a ``5 x 5`` depthwise convolution (local context),
    a ``7 x 7`` depthwise convolution with dilation 3 (long-range context) and a ``1 x 1`` convolution (channel
    mixing): ``attn = Conv_{1x1}(DW-D-Conv(DW-Conv(x)))`` and the output is ``attn * x`` (element-wise), an
    attention map that adapts in space and in channels. There is no softmax and no normalisation. Memory grows
    with ``H*W*C`` (linear in the number of pixels); each output sees a 23 x 23 window of the input.

    Args:
        channels: channels ``C`` (LKA has no other hyper-parameter in the official code).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> lka = cvattn.create("van", channels=64)
        >>> lka(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Reference:
        Guo, Lu, Liu, Cheng, Hu. Visual Attention Network. Computational Visual Media 2023.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.conv0 = nn.Conv2d(channels, channels, 5, padding=2, groups=channels)  # DW-Conv
        self.conv_spatial = nn.Conv2d(
            channels, channels, 7, padding=9, dilation=3, groups=channels
        )  # DW-D-Conv
        self.conv1 = nn.Conv2d(channels, channels, 1)  # channel mixing

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        attn = self.conv1(self.conv_spatial(self.conv0(x)))
        return attn * x


@register("van-attention", kind="attention", inputs=(64, 14, 14), channels=64)
class VANAttention(nn.Module):
    """VAN's attention layer: LKA between two 1x1 projections, with a residual connection.

    ``y = x + proj_2(LKA(act(proj_1(x))))`` with GELU as ``act``; this is the token mixer of a VAN block (the
    block adds batch norm before it and a layer-scaled residual around it). Memory grows with ``H*W*C``.

    Args:
        channels: channels ``C``.
        act_layer: activation after the first projection (GELU).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> attn = cvattn.create("van-attention", channels=64)
        >>> attn(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Reference:
        Guo, Lu, Liu, Cheng, Hu. Visual Attention Network. Computational Visual Media 2023.
    """

    def __init__(self, channels: int, act_layer: LayerType = nn.GELU) -> None:
        super().__init__()
        self.channels = channels
        self.proj_1 = nn.Conv2d(channels, channels, 1)
        self.activation = create_act(act_layer)
        self.spatial_gating_unit = LargeKernelAttention(channels)
        self.proj_2 = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        y = self.proj_2(self.spatial_gating_unit(self.activation(self.proj_1(x))))
        return y + x
