"""Pyramidal convolution.

Paper: "Pyramidal Convolution: Rethinking Convolutional Neural Networks for Visual Recognition",
Ionut Cosmin Duta, Li Liu, Fan Zhu, Ling Shao, arXiv 2020, https://arxiv.org/abs/2006.11538.
Official code: https://github.com/iduta/pyconv (``models/pyconvresnet.py``: ``PyConv4``, ``PyConv3``, ``PyConv2``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input

# Official settings by the number of pyramid levels (PyConv4/3/2): kernels, groups, and the divisor of the output
# width that gives each level's channels (PyConv3 gives C/4, C/4 and C/2, not thirds).
LEVELS = {
    4: ((3, 5, 7, 9), (1, 4, 8, 16), (4, 4, 4, 4)),
    3: ((3, 5, 7), (1, 4, 8), (4, 4, 2)),
    2: ((3, 5), (1, 4), (2, 2)),
    1: ((3,), (1,), (1,)),
}


@register("pyconv", kind="block", inputs=(64, 16, 16), in_channels=64, out_channels=64)
class PyConv2d(nn.Module):
    """Pyramidal convolution: the output channels are split over levels with kernels 3, 5, 7, 9; larger
    kernels use more groups, so parameters and FLOPs stay close to a 3x3 convolution.

    ``y = [conv_{3, g=1}(x), conv_{5, g=4}(x), conv_{7, g=8}(x), conv_{9, g=16}(x)]`` (each to
    ``C_out / 4`` channels, "same" padding, no bias), the official ``PyConv4``; ``levels`` 3, 2, 1 give
    the official ``PyConv3`` (kernels 3, 5, 7 to ``C_out/4``, ``C_out/4`` and ``C_out/2`` channels),
    ``PyConv2`` (3 and 5, half each) and a plain 3x3 convolution, used in deeper stages.

    Args:
        in_channels: input channels (divisible by the largest group count).
        out_channels: output channels (divisible by 4 for 4 or 3 levels, by 2 for 2 levels).
        levels: pyramid levels (4).
        stride: stride of every level.

    Shape:
        - Input: ``(N, C_in, H, W)``
        - Output: ``(N, C_out, H / stride, W / stride)``

    Examples:
        >>> import torch, cvattn
        >>> conv = cvattn.create("pyconv", in_channels=64, out_channels=64)
        >>> conv(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Reference:
        Duta, Liu, Zhu, Shao. Pyramidal Convolution: Rethinking Convolutional Neural Networks for Visual
        Recognition. arXiv 2020.
    """

    def __init__(self, in_channels: int, out_channels: int, levels: int = 4, stride: int = 1) -> None:
        super().__init__()
        if levels not in LEVELS:
            raise ValueError(f"levels must be one of {sorted(LEVELS)}, got {levels}")
        kernels, groups, divisors = LEVELS[levels]
        if out_channels % max(divisors) or in_channels % max(groups):
            raise ValueError(
                f"with {levels} levels, out_channels must be divisible by {max(divisors)} and in_channels by "
                f"{max(groups)}; got {out_channels} and {in_channels}"
            )
        self.in_channels = in_channels
        self.levels = nn.ModuleList(
            nn.Conv2d(in_channels, out_channels // d, k, stride, k // 2, groups=g, bias=False)
            for k, g, d in zip(kernels, groups, divisors, strict=True)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        return torch.cat([conv(x) for conv in self.levels], 1)
