"""Conditionally parameterized convolution.

Paper: "CondConv: Conditionally Parameterized Convolutions for Efficient Inference", Brandon Yang, Gabriel Bender,
Quoc V. Le, Jiquan Ngiam, NeurIPS 2019, https://arxiv.org/abs/1904.04971.
Official code: https://github.com/tensorflow/tpu/tree/master/models/official/efficientnet/condconv
(``condconv_layers.py``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_divisible, check_input


def mixture_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    routing: torch.Tensor,
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
    groups: int,
) -> torch.Tensor:
    """Convolve each sample with its own kernel ``sum_e routing[n, e] * weight[e]`` (and bias), in one
    grouped convolution: the batch is folded into the channel groups.

    Args:
        x: ``(N, C_in, H, W)``.
        weight: experts ``(E, C_out, C_in / groups, kH, kW)``.
        bias: experts ``(E, C_out)`` or ``None``.
        routing: ``(N, E)`` mixing weights.
    """
    n, e = x.size(0), weight.size(0)
    kernel = (weight.size(2), weight.size(3), weight.size(4))
    w = (routing @ weight.reshape(e, -1)).reshape(
        -1, *kernel
    )  # per-sample kernels: (N*C_out, C_in/g, kH, kW)
    b = (routing @ bias).reshape(-1) if bias is not None else None  # (N*C_out,)
    y = F.conv2d(x.reshape(1, -1, x.shape[2], x.shape[3]), w, b, stride, padding, dilation, groups * n)
    return y.reshape(n, weight.size(1), y.shape[2], y.shape[3])


class ExpertConv2d(nn.Module):
    """Shared part of the mixture convolutions: ``nn.Conv2d``'s arguments, ``E`` expert kernels (and biases)
    and the per-sample mixing of :func:`mixture_conv2d`. Subclasses compute the routing weights."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int,
        padding: int,
        dilation: int,
        groups: int,
        bias: bool,
        num_experts: int,
    ) -> None:
        super().__init__()
        check_divisible(in_channels, out_channels, groups)
        self.in_channels, self.out_channels = in_channels, out_channels
        pair = nn.modules.utils._pair
        self.stride, self.padding, self.dilation, self.groups = (
            pair(stride),
            pair(padding),
            pair(dilation),
            groups,
        )
        self.weight = nn.Parameter(
            torch.empty(num_experts, out_channels, in_channels // groups, *pair(kernel_size))
        )
        self.bias = nn.Parameter(torch.zeros(num_experts, out_channels)) if bias else None
        for w in self.weight:
            nn.init.kaiming_uniform_(w, a=math.sqrt(5))

    def mix(self, x: torch.Tensor, routing: torch.Tensor) -> torch.Tensor:
        """Convolve each sample with its routed mixture of the experts."""
        return mixture_conv2d(
            x, self.weight, self.bias, routing, self.stride, self.padding, self.dilation, self.groups
        )


@register("condconv", kind="block", inputs=(32, 16, 16), in_channels=32, out_channels=32, kernel_size=3)
class CondConv2d(ExpertConv2d):
    """CondConv: a convolution whose kernel is a per-example mixture of expert kernels.

    ``r(x) = sigmoid(R GAP(x))`` (one routing weight per expert, from a fully connected layer on the global
    average) and ``y = (sum_e r_e(x) W_e) * x``: as expressive as ``E`` convolutions at the cost of one
    convolution plus the small mixing. Computed as a single grouped convolution over the batch.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: kernel size.
        stride: stride.
        padding: padding.
        dilation: dilation.
        groups: groups (depthwise when equal to ``in_channels``).
        bias: learn one bias per expert (mixed like the kernels).
        num_experts: number of experts ``E`` (8, as the paper's CondConv-EfficientNet).

    Shape:
        - Input: ``(N, C_in, H, W)``
        - Output: ``(N, C_out, H', W')`` as ``nn.Conv2d`` with the same arguments.

    Examples:
        >>> import torch, cvattn
        >>> conv = cvattn.create("condconv", in_channels=32, out_channels=64, kernel_size=3, padding=1)
        >>> conv(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        The routing layer acts on the global average of the block's own input (the official layer receives
        the routing weights from the caller, which computes them the same way). Dropout before routing is
        not included.

    Reference:
        Yang, Bender, Le, Ngiam. CondConv: Conditionally Parameterized Convolutions for Efficient Inference.
        NeurIPS 2019.
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
        num_experts: int = 8,
    ) -> None:
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, num_experts
        )
        self.routing = nn.Linear(in_channels, num_experts)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        r = torch.sigmoid(self.routing(x.mean((2, 3))))  # routing weights: (N, E)
        return self.mix(x, r)
