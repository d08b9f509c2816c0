"""Pyramid Squeeze Attention (PSA) module of EPSANet.

Paper: "EPSANet: An Efficient Pyramid Squeeze Attention Block on Convolutional Neural Network", Hu Zhang,
Keke Zu, Jian Lu, Yuru Zou, Deyu Meng, ACCV 2022, https://arxiv.org/abs/2105.14447.
Official code: https://github.com/murufeng/EPSANet (``models/epsanet.py``, ``PSAModule``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input


@register("epsanet", kind="block", inputs=(64, 16, 16), in_channels=64, out_channels=64)
class PSA(nn.Module):
    """PSA: multi-scale grouped convolutions, an SE weight per scale, and a softmax across the scales.

    Split-and-concat: ``S`` branches ``F_i = conv_{k_i, g_i}(x)`` to ``C_out / S`` channels each (kernels
    3, 5, 7, 9 with groups 1, 4, 8, 16). SE weight: ``Z_i = sigmoid(W_2 ReLU(W_1 GAP(F_i)))`` with one SE
    module shared by all branches (reduction 16). Attention across scales: ``att_i = softmax_i(Z_i)`` per
    channel, and the output concatenates ``att_i * F_i`` from the last branch to the first (largest kernel first),
    in the order of the official ``PSAModule``, which prepends each branch to the ones before it. It replaces
    the 3x3 convolution of a bottleneck.

    Args:
        in_channels: input channels.
        out_channels: output channels (divisible by ``len(kernel_sizes)``).
        stride: stride of every branch.
        kernel_sizes: branch kernels ``(3, 5, 7, 9)``.
        groups: branch groups ``(1, 4, 8, 16)``.
        reduction: SE reduction (16).

    Shape:
        - Input: ``(N, C_in, H, W)``
        - Output: ``(N, C_out, H / stride, W / stride)``

    Examples:
        >>> import torch, cvattn
        >>> psa = cvattn.create("epsanet", in_channels=64, out_channels=64)
        >>> psa(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Reference:
        Zhang, Zu, Lu, Zou, Meng. EPSANet: An Efficient Pyramid Squeeze Attention Block on Convolutional
        Neural Network. ACCV 2022.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        kernel_sizes: tuple[int, ...] = (3, 5, 7, 9),
        groups: tuple[int, ...] = (1, 4, 8, 16),
        reduction: int = 16,
    ) -> None:
        super().__init__()
        s = len(kernel_sizes)
        if out_channels % s or len(groups) != s:
            raise ValueError(
                f"out_channels ({out_channels}) must be divisible by the {s} branches, one group count per kernel"
            )
        self.in_channels, self.branches, self.split = in_channels, s, out_channels // s
        self.convs = nn.ModuleList(
            nn.Conv2d(in_channels, self.split, k, stride, k // 2, groups=g, bias=False)
            for k, g in zip(kernel_sizes, groups, strict=True)
        )
        hidden = max(1, self.split // reduction)
        self.se = nn.Sequential(
            nn.Conv2d(self.split, hidden, 1), nn.ReLU(inplace=True), nn.Conv2d(hidden, self.split, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        f = torch.stack([conv(x) for conv in self.convs], 1)  # multi-scale features: (N, S, C/S, H', W')
        n, h, w = f.size(0), f.shape[3], f.shape[4]
        z = torch.sigmoid(
            self.se(f.mean((3, 4)).reshape(n * self.branches, self.split, 1, 1))
        )  # SE weight per branch
        att = z.reshape(n, self.branches, self.split, 1, 1).softmax(1)  # across scales
        # the official loop builds cat(F_S, ..., F_2, F_1): the branches in reverse order
        return (f * att).flip(1).reshape(n, self.branches * self.split, h, w)
