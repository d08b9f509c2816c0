"""Strip pooling.

Paper: "Strip Pooling: Rethinking Spatial Pooling for Scene Parsing", Qibin Hou, Li Zhang, Ming-Ming Cheng,
Jiashi Feng, CVPR 2020, https://arxiv.org/abs/2003.13328.
Official code: https://github.com/Andrew-Qibin/SPNet (``models/customize.py``, ``SPBlock``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input


@register("strip-pooling", kind="attention", inputs=(64, 14, 14), channels=64)
class StripPooling(nn.Module):
    """Strip pooling module (SPM): long, narrow pooling windows along each axis give a spatial gate that
    captures long-range context in banded shapes.

    ``y_h = BN(conv_{3x1}(mean_W(x)))`` (an ``H x 1`` strip), ``y_w = BN(conv_{1x3}(mean_H(x)))`` (``1 x W``),
    both expanded to ``H x W``; ``gate = sigmoid(conv_{1x1}(ReLU(y_h + y_w)))`` and the output is
    ``x * gate``. Cost is linear in ``H*W``.

    Args:
        channels: input channels ``C``.
        norm_layer: normalisation after the strip convolutions (BatchNorm2d).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> spm = cvattn.create("strip-pooling", channels=64)
        >>> spm(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The official ``SPBlock`` returns the gate and the backbone multiplies it into the features; here the
        module returns the gated features. The mixed pooling module (MPM) of the segmentation head is not
        provided.

    Reference:
        Hou, Zhang, Cheng, Feng. Strip Pooling: Rethinking Spatial Pooling for Scene Parsing. CVPR 2020.
    """

    def __init__(self, channels: int, norm_layer: LayerType = nn.BatchNorm2d) -> None:
        super().__init__()
        self.channels = channels
        self.conv_h = nn.Conv2d(channels, channels, (3, 1), padding=(1, 0), bias=False)
        self.bn_h = norm_layer(channels)
        self.conv_w = nn.Conv2d(channels, channels, (1, 3), padding=(0, 1), bias=False)
        self.bn_w = norm_layer(channels)
        self.fuse = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        y_h = self.bn_h(self.conv_h(x.mean(3, keepdim=True)))  # vertical strip: (N, C, H, 1)
        y_w = self.bn_w(self.conv_w(x.mean(2, keepdim=True)))  # horizontal strip: (N, C, 1, W)
        return x * torch.sigmoid(self.fuse(F.relu(y_h + y_w)))  # broadcast to (N, C, H, W)
