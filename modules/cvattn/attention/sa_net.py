"""Shuffle attention.

Paper: "SA-Net: Shuffle Attention for Deep Convolutional Neural Networks", Qing-Long Zhang, Yu-Bin Yang,
ICASSP 2021, https://arxiv.org/abs/2102.00240. Official code: https://github.com/wofmanaf/SA-Net
(``models/sa_resnet.py``, ``sa_layer``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """ShuffleNet's channel shuffle: ``(N, G*K, H, W) -> (N, K*G, H, W)``."""
    n, h, w = x.size(0), x.shape[2], x.shape[3]
    return x.reshape(n, groups, -1, h, w).transpose(1, 2).reshape(n, -1, h, w)


@register("sa-net", kind="attention", inputs=(64, 14, 14), channels=64)
class ShuffleAttention(nn.Module):
    """Shuffle attention: channel and spatial attention on the two halves of each channel group, then a
    channel shuffle to mix the groups.

    The channels are split into ``G`` groups and each group into halves. Channel half:
    ``x_0 * sigmoid(W_1 mean_{H,W}(x_0) + b_1)``; spatial half: ``x_1 * sigmoid(W_2 GN(x_1) + b_2)`` with
    a GroupNorm per channel; ``W``, ``b`` are per-channel scales and shifts (initialised to 0 and 1 in the official code). The
    halves are concatenated and the channels shuffled across 2 groups.

    Args:
        channels: input channels ``C``.
        groups: number of groups ``G`` (64 in the official SA-ResNet); lowered to the largest power-of-two
            fraction for which ``C`` is divisible by ``2 G``.
        zero_init: start the two scales at 0 as the official code (default false: 0.1, see Deviations).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> sa = cvattn.create("sa-net", channels=256)
        >>> sa.groups
        64
        >>> sa(torch.randn(2, 256, 14, 14)).shape
        torch.Size([2, 256, 14, 14])

    Deviations:
        ``groups`` is lowered when ``C`` is not divisible by ``2 * groups`` (the official layer fails then).
        The scales start at 0.1 unless ``zero_init``: at 0 no gradient reaches the GroupNorm at the first step.

    Reference:
        Zhang, Yang. SA-Net: Shuffle Attention for Deep Convolutional Neural Networks. ICASSP 2021.
    """

    def __init__(self, channels: int, groups: int = 64, zero_init: bool = False) -> None:
        super().__init__()
        while groups > 1 and channels % (2 * groups):
            groups //= 2
        if channels % (2 * groups):
            raise ValueError(f"channels ({channels}) must be even")
        self.channels, self.groups = channels, groups
        k = channels // (2 * groups)
        init = 0.0 if zero_init else 0.1
        self.cweight = nn.Parameter(torch.full((1, k, 1, 1), init))
        self.cbias = nn.Parameter(torch.ones(1, k, 1, 1))
        self.sweight = nn.Parameter(torch.full((1, k, 1, 1), init))
        self.sbias = nn.Parameter(torch.ones(1, k, 1, 1))
        self.gn = nn.GroupNorm(k, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, h, w = x.size(0), x.shape[2], x.shape[3]
        xg = x.reshape(n * self.groups, -1, h, w)  # (N*G, C/G, H, W)
        x_0, x_1 = xg.chunk(2, 1)
        x_n = x_0 * torch.sigmoid(
            self.cweight * x_0.mean((2, 3), keepdim=True) + self.cbias
        )  # channel attention
        x_s = x_1 * torch.sigmoid(self.sweight * self.gn(x_1) + self.sbias)  # spatial attention
        out = torch.cat([x_n, x_s], 1).reshape(n, -1, h, w)
        return channel_shuffle(out, 2)
