"""Dynamic convolution: attention over convolution kernels.

Paper: "Dynamic Convolution: Attention over Convolution Kernels", Yinpeng Chen, Xiyang Dai, Mengchen Liu,
Dongdong Chen, Lu Yuan, Zicheng Liu, CVPR 2020, https://arxiv.org/abs/1912.03458. No official code was
released; the seed list's link is a re-implementation.
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input
from .condconv import ExpertConv2d


@register(
    "dynamic-conv",
    kind="block",
    inputs=(32, 16, 16),
    in_channels=32,
    out_channels=32,
    kernel_size=3,
)
class DynamicConv2d(ExpertConv2d):
    """Dynamic convolution: ``K`` parallel kernels aggregated per example by a softmax attention.

    ``pi(x) = softmax(FC2(ReLU(FC1(GAP(x)))) / tau)`` over the ``K`` kernels (``FC1`` reduces by 4), and
    ``y = (sum_k pi_k W_k) * x + sum_k pi_k b_k``. The attention sums to one, which keeps the aggregated
    kernel in the experts' convex hull and eases training; a large temperature ``tau`` (30 at the start,
    annealed towards 1 during the first epochs in the paper) keeps the attention near uniform early on.
    Computed as a single grouped convolution over the batch.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: kernel size.
        stride: stride.
        padding: padding.
        dilation: dilation.
        groups: groups.
        bias: learn one bias per kernel.
        num_kernels: ``K`` (4).
        reduction: reduction of the attention's first layer (4).
        temperature: softmax temperature ``tau`` (30); set ``module.temperature`` to anneal it.

    Shape:
        - Input: ``(N, C_in, H, W)``
        - Output: ``(N, C_out, H', W')`` as ``nn.Conv2d`` with the same arguments.

    Examples:
        >>> import torch, cvattn
        >>> conv = cvattn.create("dynamic-conv", in_channels=32, out_channels=64, kernel_size=3, padding=1)
        >>> conv(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        No official code exists; the attention branch follows the paper's description (no normalisation
        layer). The temperature schedule is left to the training loop.

    Reference:
        Chen et al. Dynamic Convolution: Attention over Convolution Kernels. CVPR 2020.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = True,
        num_kernels: int = 4,
        reduction: int = 4,
        temperature: float = 30.0,
    ) -> None:
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, num_kernels
        )
        self.temperature = temperature
        hidden = max(1, in_channels // reduction)
        self.attention = nn.Sequential(
            nn.Linear(in_channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, num_kernels)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        pi = torch.softmax(self.attention(x.mean((2, 3))) / self.temperature, -1)  # kernel attention: (N, K)
        return self.mix(x, pi)
