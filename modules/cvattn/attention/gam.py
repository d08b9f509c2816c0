"""Global attention mechanism (GAM).

Paper: "Global Attention Mechanism: Retain Information to Enhance Channel-Spatial Interactions", Yichao Liu,
Zongru Shao, Nico Hoffmann, arXiv 2021, https://arxiv.org/abs/2112.05561. No official code was released; this
module follows the paper.
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act, match_memory_format
from ..tokens import from_channels_last, to_channels_last


@register("gam", kind="attention", inputs=(64, 14, 14), channels=64)
class GAM(nn.Module):
    """GAM: CBAM-style channel then spatial attention that keeps every position and channel (no pooling).

    The channel submodule permutes the map to ``(H, W, C)`` and applies a two-layer MLP ``C -> C/r -> C`` to
    the channel vector of every position, so the channel weights vary with the position:
    ``F2 = sigmoid(MLP(F1)) * F1``. The spatial submodule fuses space with two ``k x k`` convolutions
    ``C -> C/r -> C`` (BN after each, ReLU between), again without pooling: ``F3 = sigmoid(Conv(F2)) * F2``.
    Memory grows with ``H*W`` (maps of ``C`` and ``C/r`` channels).

    Args:
        channels: input and output channels ``C``.
        rate: reduction rate ``r`` of both submodules (paper: 4, as in BAM).
        kernel_size: kernel of the two spatial convolutions (7).
        act_layer: activation inside both submodules (ReLU).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> gam = cvattn.create("gam", channels=64)
        >>> gam(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        There is no official code: the module follows the paper's description. The group convolution with
        channel shuffle that the paper uses in the spatial submodule of ResNet-50 (to limit parameters) is
        not provided.

    Reference:
        Liu, Shao, Hoffmann. Global Attention Mechanism: Retain Information to Enhance Channel-Spatial
        Interactions. arXiv 2021.
    """

    def __init__(
        self, channels: int, rate: int = 4, kernel_size: int = 7, act_layer: LayerType = nn.ReLU
    ) -> None:
        super().__init__()
        if rate < 1 or channels // rate < 1:
            raise ValueError(f"rate must be in [1, channels], got {rate} for {channels} channels")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and positive, got {kernel_size}")
        self.channels = channels
        hidden = channels // rate
        self.channel_attention = nn.Sequential(
            nn.Linear(channels, hidden), create_act(act_layer, inplace=True), nn.Linear(hidden, channels)
        )
        pad = kernel_size // 2
        self.spatial_attention = nn.Sequential(
            nn.Conv2d(channels, hidden, kernel_size, padding=pad),
            nn.BatchNorm2d(hidden),
            create_act(act_layer, inplace=True),
            nn.Conv2d(hidden, channels, kernel_size, padding=pad),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        m_c = from_channels_last(self.channel_attention(to_channels_last(x)))  # MLP over C at each (h, w)
        f2 = x * m_c.sigmoid()
        m_s = self.spatial_attention(f2)
        f3 = f2 * m_s.sigmoid()
        return match_memory_format(f3, x)
