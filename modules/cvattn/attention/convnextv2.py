"""Global Response Normalization (GRN) of ConvNeXt V2.

Paper: "ConvNeXt V2: Co-designing and Scaling ConvNets with Masked Autoencoders", Sanghyun Woo, Shoubhik Debnath,
Ronghang Hu, Xinlei Chen, Zhuang Liu, In So Kweon, Saining Xie, CVPR 2023, https://arxiv.org/abs/2301.00808.
Official code: https://github.com/facebookresearch/ConvNeXt-V2 (``models/utils.py``, ``GRN``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input


@register("convnextv2-grn", kind="attention", inputs=(64, 14, 14), channels=64)
class GlobalResponseNorm(nn.Module):
    """ConvNeXt V2 GRN: rescales each channel by its global response relative to the other channels.

    Global aggregation: ``G(x)_c = ||x_c||_2``, the L2 norm of channel ``c`` over all ``H*W`` positions.
    Divisive normalisation across channels: ``N(x)_c = G(x)_c / (mean_c' G(x)_c' + eps)``. Calibration
    with a residual: ``y = gamma * (x * N(x)) + beta + x``, where ``gamma`` and ``beta`` are per-channel
    and start at zero, so the layer starts as the identity. Memory grows with ``C*H*W`` (element-wise).

    Args:
        channels: channels ``C`` (``4 * dim`` in the ConvNeXt V2 block, after the first pointwise layer).
        eps: added to the mean response (official: 1e-6).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> grn = cvattn.create("convnextv2-grn", channels=64)
        >>> grn(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns an ``(N, C, H, W)`` map instead of the official channels-last ``(N, H, W, C)``;
        ``gamma`` and ``beta`` are stored as ``(C,)`` instead of ``(1, 1, 1, C)``.

    Reference:
        Woo, Debnath, Hu, Chen, Liu, Kweon, Xie. ConvNeXt V2: Co-designing and Scaling ConvNets with Masked
        Autoencoders. CVPR 2023.
    """

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        if channels < 1:
            raise ValueError(f"channels must be positive, got {channels}")
        self.channels, self.eps = channels, eps
        self.gamma = nn.Parameter(torch.zeros(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        g = torch.linalg.vector_norm(x, 2, dim=(2, 3), keepdim=True)  # G(x): (N, C, 1, 1)
        n = g / (g.mean(dim=1, keepdim=True) + self.eps)  # N(x): (N, C, 1, 1)
        gamma, beta = self.gamma[:, None, None], self.beta[:, None, None]
        return gamma * (x * n) + beta + x
