"""Spatial Group-wise Enhance.

Paper: "Spatial Group-wise Enhance: Improving Semantic Feature Learning in Convolutional Networks", Xiang Li,
Xiaolin Hu, Jian Yang, arXiv 2019, https://arxiv.org/abs/1905.09646.
Official code: https://github.com/implus/PytorchInsight (``classification/models/imagenet/resnet_sge.py``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .._registry import register
from ..layers import check_input


@register("sge", kind="attention", inputs=(64, 14, 14), channels=64)
class SpatialGroupEnhance(nn.Module):
    """SGE: in each channel group, a spatial attention map from the similarity between every position's
    feature and the group's global average.

    Per group (features ``x_i`` at positions ``i``): ``g = mean_i x_i``, ``c_i = g . x_i``, normalised over the
    positions ``c'_i = (c_i - mean(c)) / (std(c) + 1e-5)``, ``a_i = gamma c'_i + beta`` (one ``gamma``,
    ``beta`` per group, initialised to 0 and 1) and ``x_i * sigmoid(a_i)``. Only ``2 * groups`` parameters.

    Args:
        channels: input channels ``C``.
        groups: number of groups ``G`` (64 in the official SGE-ResNet); lowered to ``gcd(C, G)`` when it does
            not divide ``C``.

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> sge = cvattn.create("sge", channels=64, groups=8)
        >>> sge(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Reference:
        Li, Hu, Yang. Spatial Group-wise Enhance: Improving Semantic Feature Learning in Convolutional Networks.
        arXiv 2019.
    """

    def __init__(self, channels: int, groups: int = 64) -> None:
        super().__init__()
        groups = math.gcd(
            channels, groups
        )  # the official layer needs C divisible by G; narrower nets get fewer groups
        self.channels, self.groups = channels, groups
        self.weight = nn.Parameter(torch.zeros(1, groups, 1, 1))
        self.bias = nn.Parameter(torch.ones(1, groups, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, h, w = x.size(0), x.shape[2], x.shape[3]
        xg = x.reshape(n * self.groups, -1, h, w)  # (N*G, C/G, H, W)
        c = (xg * xg.mean((2, 3), keepdim=True)).sum(1).flatten(1)  # similarity to the group mean: (N*G, HW)
        c = c - c.mean(1, keepdim=True)
        c = c / (c.std(1, keepdim=True) + 1e-5)
        a = c.reshape(n, self.groups, h, w) * self.weight + self.bias  # (N, G, H, W)
        return (xg * torch.sigmoid(a.reshape(n * self.groups, 1, h, w))).reshape(x.shape)
