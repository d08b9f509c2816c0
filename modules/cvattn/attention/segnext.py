"""Multi-scale convolutional attention (MSCA) of SegNeXt.

Paper: "SegNeXt: Rethinking Convolutional Attention Design for Semantic Segmentation", Meng-Hao Guo, Cheng-Ze Lu,
Qibin Hou, Zheng-Ning Liu, Ming-Ming Cheng, Shi-Min Hu, NeurIPS 2022, https://openreview.net/forum?id=VgOw1pUPh97
(arXiv:2209.08575). Official code: https://github.com/Visual-Attention-Network/SegNeXt
(``mmseg/models/backbones/mscan.py``, ``AttentionModule``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input


def _strip(channels: int, k: int, vertical: bool) -> nn.Conv2d:
    """A depthwise ``1 x k`` (or ``k x 1``) convolution with 'same' zero padding."""
    size, pad = ((k, 1), (k // 2, 0)) if vertical else ((1, k), (0, k // 2))
    return nn.Conv2d(channels, channels, size, padding=pad, groups=channels)


@register("segnext", kind="attention", inputs=(64, 14, 14), channels=64)
class MultiScaleConvAttention(nn.Module):
    """SegNeXt's MSCA: a depthwise convolution, three multi-scale strip-convolution branches, a 1x1 convolution,
    and the result gates the input.

    ``F' = DW-Conv_{5x5}(x)``; branch ``i`` applies a ``1 x k_i`` then a ``k_i x 1`` depthwise convolution with
    ``k_i`` = 7, 11, 21 (a cheap stand-in for a ``k_i x k_i`` depthwise kernel, suited to strip-like objects);
    ``Att = Conv_{1x1}(F' + sum_i Scale_i(F'))`` and the output is ``Att * x`` (element-wise). There is no softmax
    and no normalisation. Memory grows with ``H*W*C`` (linear in the number of pixels).

    Args:
        channels: channels ``C`` (MSCA has no other hyper-parameter in the official code).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> msca = cvattn.create("segnext", channels=64)
        >>> msca(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Reference:
        Guo, Lu, Hou, Liu, Cheng, Hu. SegNeXt: Rethinking Convolutional Attention Design for Semantic
        Segmentation. NeurIPS 2022.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.conv0 = nn.Conv2d(channels, channels, 5, padding=2, groups=channels)
        self.conv0_1, self.conv0_2 = _strip(channels, 7, False), _strip(channels, 7, True)
        self.conv1_1, self.conv1_2 = _strip(channels, 11, False), _strip(channels, 11, True)
        self.conv2_1, self.conv2_2 = _strip(channels, 21, False), _strip(channels, 21, True)
        self.conv3 = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        f = self.conv0(x)  # local context, 5x5
        scale_7 = self.conv0_2(self.conv0_1(f))
        scale_11 = self.conv1_2(self.conv1_1(f))
        scale_21 = self.conv2_2(self.conv2_1(f))
        attn = self.conv3(f + scale_7 + scale_11 + scale_21)
        return attn * x
