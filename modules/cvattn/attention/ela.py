"""Efficient local attention (ELA).

Paper: "ELA: Efficient Local Attention for Deep Convolutional Neural Networks", Wei Xu, Yi Wan, arXiv 2024,
https://arxiv.org/abs/2403.01123. No official code was released; this module follows the paper.
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format


@register("ela", kind="attention", inputs=(64, 14, 14), channels=64)
class ELA(nn.Module):
    """ELA: coordinate-style attention from strip pooling, a 1D convolution and group normalisation.

    The map is averaged along each axis into the strips ``z_h = mean_w x`` ``(C, H)`` and ``z_w = mean_h x``
    ``(C, W)``; one shared 1D convolution ``F`` (kernel ``k``, ``g`` groups, no bias) and one shared
    GroupNorm turn each strip into an attention vector, ``y_h = sigmoid(GN(F(z_h)))`` and
    ``y_w = sigmoid(GN(F(z_w)))``, and the output is ``x * y_h * y_w`` (broadcast along the other axis). No
    channel reduction is used, unlike coordinate attention. Memory grows with ``H*W`` (one output map; the
    strips hold ``C*(H+W)`` values).

    The paper's four versions: ELA-T (``kernel_size=5, groups=C, num_groups=32``), ELA-B (7, ``C``, 16),
    ELA-S (5, ``C/8``, 16) and ELA-L (7, ``C/8``, 16).

    Args:
        channels: input and output channels ``C``.
        kernel_size: kernel ``k`` of the 1D convolution, odd (ELA-B: 7).
        groups: groups of the 1D convolution; ``None`` means ``C`` (depthwise; ELA-B).
        num_groups: groups of the GroupNorm (ELA-B: 16).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> ela = cvattn.create("ela", channels=64)
        >>> ela(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        None known: there is no official code; the module follows the paper's equations and listing.

    Reference:
        Xu, Wan. ELA: Efficient Local Attention for Deep Convolutional Neural Networks. arXiv 2024.
    """

    def __init__(
        self, channels: int, kernel_size: int = 7, groups: int | None = None, num_groups: int = 16
    ) -> None:
        super().__init__()
        groups = channels if groups is None else groups
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and positive, got {kernel_size}")
        if groups < 1 or channels % groups:
            raise ValueError(f"channels ({channels}) must be divisible by groups ({groups})")
        if num_groups < 1 or channels % num_groups:
            raise ValueError(f"channels ({channels}) must be divisible by num_groups ({num_groups})")
        self.channels = channels
        self.conv = nn.Conv1d(
            channels, channels, kernel_size, padding=kernel_size // 2, groups=groups, bias=False
        )
        self.gn = nn.GroupNorm(num_groups, channels)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        z_h = x.mean(dim=3)  # (N, C, H): strip pooling along the width
        z_w = x.mean(dim=2)  # (N, C, W)
        y_h = self.gate(self.gn(self.conv(z_h)))
        y_w = self.gate(self.gn(self.conv(z_w)))
        out = x * y_h.unsqueeze(3) * y_w.unsqueeze(2)
        return match_memory_format(out, x)
