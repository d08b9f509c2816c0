"""Ultra-lightweight subspace attention.

Paper: "ULSAM: Ultra-Lightweight Subspace Attention Module for Compact Convolutional Neural Networks",
Rajat Saini, Nandan Kumar Jha, Bedanta Das, Sparsh Mittal, C. Krishna Mohan, WACV 2020,
https://arxiv.org/abs/2006.15102. Official code: https://github.com/Nandan91/ULSAM (``ulsam.py``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input


@register("ulsam", kind="attention", inputs=(64, 14, 14), channels=64)
class ULSAM(nn.Module):
    """ULSAM: one spatial attention map per channel subspace.

    The channels are split into ``g`` subspaces. In each: depthwise 1x1 conv, BN, ReLU, 3x3 max pooling
    (stride 1), a pointwise conv to one map, BN, ReLU, and a softmax over the positions give the map
    ``A``; the subspace becomes ``x * A + x``. The ``g`` subspaces are computed together: the depthwise
    stages act per channel anyway, and the pointwise convs are one grouped convolution.

    Args:
        channels: input channels ``C`` (divisible by ``num_splits``).
        num_splits: number of subspaces ``g`` (4).
        momentum: BatchNorm momentum (0.9 in the official code).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> ulsam = cvattn.create("ulsam", channels=64)
        >>> ulsam(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Reference:
        Saini, Jha, Das, Mittal, Mohan. ULSAM: Ultra-Lightweight Subspace Attention Module for Compact
        Convolutional Neural Networks. WACV 2020.
    """

    def __init__(self, channels: int, num_splits: int = 4, momentum: float = 0.9) -> None:
        super().__init__()
        if channels % num_splits:
            raise ValueError(f"channels ({channels}) must be divisible by num_splits ({num_splits})")
        self.channels, self.num_splits = channels, num_splits
        self.dws = nn.Conv2d(channels, channels, 1, groups=channels)
        self.bn_dws = nn.BatchNorm2d(channels, momentum=momentum)
        self.pool = nn.MaxPool2d(3, stride=1, padding=1)
        self.point = nn.Conv2d(channels, num_splits, 1, groups=num_splits)  # one map per subspace
        self.bn_point = nn.BatchNorm2d(num_splits, momentum=momentum)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, h, w = x.size(0), x.shape[2], x.shape[3]
        a = self.pool(torch.relu(self.bn_dws(self.dws(x))))
        a = torch.relu(self.bn_point(self.point(a)))  # (N, g, H, W)
        a = torch.softmax(a.flatten(2), -1).reshape(n, self.num_splits, 1, h, w)  # over positions
        xs = x.reshape(n, self.num_splits, -1, h, w)  # subspaces: (N, g, C/g, H, W)
        return (xs * a + xs).reshape(x.shape)
