"""Involution: a spatial-specific, channel-agnostic kernel generated from each pixel.

Paper: "Involution: Inverting the Inherence of Convolution for Visual Recognition", Duo Li, Jie Hu, Changhu
Wang, Xiangtai Li, Qi She, Lei Zhu, Tong Zhang, Qifeng Chen, CVPR 2021, https://arxiv.org/abs/2103.06255.
Official code: https://github.com/d-li14/involution (``involution_naive.py``, the unfold-based PyTorch path
beside the CuPy kernel).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input


@register("involution", kind="block", inputs=(64, 14, 14), channels=64, kernel_size=7)
class Involution(nn.Module):
    """Involution: a ``K x K`` kernel predicted at every pixel, shared by the channels of a group.

    At each output position the kernel ``H = W_1 sigma(W_0 X_p)`` (``W_0``: 1x1 conv reducing the channels
    by ``reduction``, then BN and ReLU; ``W_1``: 1x1 conv to ``G * K * K`` values) is predicted from the
    pixel itself (average-pooled over the stride when ``stride > 1``), and
    ``Y[c, p] = sum_k H[g(c), k, p] X[c, p + k]`` over the ``K x K`` neighbourhood, where the ``G`` groups
    of ``group_channels`` channels each share one kernel. The kernel thus varies over space and is shared
    over channels: the inverse of convolution's design.

    Args:
        channels: input and output channels (a multiple of ``group_channels``).
        kernel_size: ``K`` (7 in RedNet).
        stride: stride; the kernel is then predicted from a ``stride x stride`` average.
        reduction: channel reduction of the kernel generator (4).
        group_channels: channels that share one kernel (16), so ``G = channels // group_channels``.
        norm_layer: normalisation after the reducing conv (BN).
        act_layer: activation after it (ReLU).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, ceil(H / stride), ceil(W / stride))``

    Examples:
        >>> import torch, cvattn
        >>> inv = cvattn.create("involution", channels=64, kernel_size=7)
        >>> inv(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        With ``stride > 1`` the average pool rounds up (``ceil_mode=True``), so an odd size gives the
        unfold's ``ceil(H / stride)`` positions; the official code rounds down there and fails on odd sizes
        (even sizes are identical).

    Reference:
        Li et al. Involution: Inverting the Inherence of Convolution for Visual Recognition. CVPR 2021.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int = 7,
        stride: int = 1,
        reduction: int = 4,
        group_channels: int = 16,
        norm_layer: LayerType = nn.BatchNorm2d,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__()
        if channels % group_channels:
            raise ValueError(f"channels ({channels}) must be divisible by group_channels ({group_channels})")
        self.channels = channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.groups = channels // group_channels
        self.pool = nn.AvgPool2d(stride, stride, ceil_mode=True) if stride > 1 else nn.Identity()
        self.reduce = ConvNormAct(
            channels, channels // reduction, 1, norm_layer=norm_layer, act_layer=act_layer
        )
        self.span = nn.Conv2d(channels // reduction, kernel_size * kernel_size * self.groups, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n = x.shape[0]
        k = self.kernel_size
        kernel = self.span(self.reduce(self.pool(x)))  # H: (N, G*K*K, H', W')
        h, w = kernel.shape[-2:]
        kernel = kernel.reshape(n, self.groups, 1, k * k, h * w)
        patches = F.unfold(x, k, padding=(k - 1) // 2, stride=self.stride)  # (N, C*K*K, H'*W')
        patches = patches.view(n, self.groups, -1, k * k, h * w)
        out = (kernel * patches).sum(3)  # (N, G, C/G, H'*W')
        return out.view(n, self.channels, h, w)
