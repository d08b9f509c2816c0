"""WeightNet: a convolution whose kernel is generated per example by grouped fully connected layers.

Paper: "WeightNet: Revisiting the Design Space of Weight Networks", Ningning Ma, Xiangyu Zhang, Jiawei Huang,
Jian Sun, ECCV 2020, https://arxiv.org/abs/2007.11823. Official code (MegEngine):
https://github.com/megvii-model/WeightNet (``weightnet.py``: ``WeightNet``, ``WeightNet_DW``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input


def _squeezed_channels(in_channels: int) -> int:
    """Width of the global descriptor fed to the weight network: ``max(16, C_in / 16)``, as the official code."""
    return max(16, in_channels // 16)


def per_sample_conv2d(
    x: torch.Tensor, weight: torch.Tensor, stride: int, padding: int, groups: int
) -> torch.Tensor:
    """Convolve sample ``n`` of ``x`` with ``weight[n]`` in one grouped convolution (batch folded into groups).

    Args:
        x: ``(N, C_in, H, W)``.
        weight: ``(N, C_out, C_in / groups, k, k)``.
    """
    n = x.shape[0]
    y = F.conv2d(
        x.reshape(1, -1, x.shape[2], x.shape[3]),  # (1, N*C_in, H, W)
        weight.reshape(-1, weight.shape[2], weight.shape[3], weight.shape[4]),  # (N*C_out, C_in/g, k, k)
        None,
        stride,
        padding,
        1,
        groups * n,
    )
    return y.reshape(n, weight.shape[1], y.shape[2], y.shape[3])


class _WeightNetBase(nn.Module):
    """The shared weight network: ``GAP -> reduce -> fc1 -> sigmoid -> grouped fc2``, all 1x1 convolutions."""

    def __init__(
        self, in_channels: int, hidden: int, kernel_numel: int, fc2_groups: int, kernel_size: int
    ) -> None:
        super().__init__()
        squeezed = _squeezed_channels(in_channels)
        self.in_channels, self.kernel_size = in_channels, kernel_size
        self.reduce = nn.Conv2d(in_channels, squeezed, 1)
        self.fc1 = nn.Conv2d(squeezed, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, kernel_numel, 1, groups=fc2_groups, bias=False)

    def generate(self, x: torch.Tensor) -> torch.Tensor:
        """The per-example kernel entries, ``(N, kernel_numel, 1, 1)``."""
        z = self.reduce(x.mean((2, 3), keepdim=True))  # global descriptor: (N, C_squeezed, 1, 1)
        a = torch.sigmoid(self.fc1(z))  # attention activation: (N, M * C_out, 1, 1)
        return self.fc2(a)  # kernel entries: (N, C_out * C_in * k * k, 1, 1)


def _check_ratio(expansion: int, weight_groups: int) -> None:
    if expansion < 1 or weight_groups < 1 or expansion % weight_groups:
        raise ValueError(
            f"expected expansion (M) divisible by weight_groups (G), got M={expansion}, G={weight_groups}"
        )


@register("weightnet", kind="block", inputs=(32, 16, 16), in_channels=32, out_channels=32, kernel_size=3)
class WeightNetConv2d(_WeightNetBase):
    """WeightNet convolution: the kernel is the output of two fully connected layers on the global average.

    WeightNet unifies SENet and CondConv on the weight space. The global average of the input is reduced to
    ``max(16, C_in / 16)`` channels, a fully connected layer with a sigmoid gives an attention vector of
    ``M * C_out`` entries, and a grouped fully connected layer (``G * C_out`` groups) maps it directly to the
    ``C_out * C_in * k * k`` entries of this example's kernel: ``W(x) = FC2(sigmoid(FC1(z)))``. ``M`` and ``G``
    set the parameters (``C_out C_in k^2 M / G`` in the kernel generator) independently of the FLOPs: with
    ``G = M`` every block of the kernel is a learned block scaled by one attention value (SE-like), with
    ``G = 1`` each filter mixes ``M`` learned filters (CondConv-like). The per-example kernels run as one
    grouped convolution over the batch.

    Args:
        in_channels: input channels ``C_in``.
        out_channels: output channels ``C_out``.
        kernel_size: kernel size ``k``; the padding is ``k // 2`` as in the official layer.
        stride: stride.
        expansion: ``M``, the attention vector's width per output channel (2).
        weight_groups: ``G``, groups per output channel of the second fully connected layer (2).

    Shape:
        - Input: ``(N, C_in, H, W)``
        - Output: ``(N, C_out, H', W')`` with ``H' = (H - 1) // stride + 1`` for odd ``k``.

    Examples:
        >>> import torch, cvattn
        >>> conv = cvattn.create("weightnet", in_channels=32, out_channels=64, kernel_size=1)
        >>> conv(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        The official layer receives the reduced global descriptor from its ShuffleNetV2 block, which computes
        it once (``reduce``: a 1x1 convolution with bias to ``max(16, C_in / 16)`` channels) and hands it to
        all the block's WeightNet layers; this module computes its own, so the reduction is one layer's
        parameter here. The official code is MegEngine; the numbers were compared through a PyTorch shim.

    Reference:
        Ma, Zhang, Huang, Sun. WeightNet: Revisiting the Design Space of Weight Networks. ECCV 2020.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 1,
        stride: int = 1,
        expansion: int = 2,
        weight_groups: int = 2,
    ) -> None:
        _check_ratio(expansion, weight_groups)
        super().__init__(
            in_channels,
            expansion * out_channels,
            out_channels * in_channels * kernel_size * kernel_size,
            weight_groups * out_channels,
            kernel_size,
        )
        self.out_channels, self.stride = out_channels, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        k = self.kernel_size
        w = self.generate(x).reshape(-1, self.out_channels, self.in_channels, k, k)  # (N, C_out, C_in, k, k)
        return per_sample_conv2d(x, w, self.stride, k // 2, 1)


@register("weightnet-dw", kind="block", inputs=(32, 16, 16), channels=32, kernel_size=3)
class WeightNetDWConv2d(_WeightNetBase):
    """WeightNet applied to a depthwise convolution, as in the paper's ShuffleNetV2 blocks.

    The attention vector has ``(M / G) C`` entries and the second fully connected layer has ``C`` groups,
    each producing one channel's ``k x k`` kernel from its ``M / G`` attention entries.

    Args:
        channels: channels ``C`` (input and output).
        kernel_size: kernel size ``k``; the padding is ``k // 2`` as in the official layer.
        stride: stride.
        expansion: ``M`` (2).
        weight_groups: ``G`` (2).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H', W')`` with ``H' = (H - 1) // stride + 1`` for odd ``k``.

    Examples:
        >>> import torch, cvattn
        >>> conv = cvattn.create("weightnet-dw", channels=32, kernel_size=3, stride=2)
        >>> conv(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 32, 8, 8])

    Deviations:
        As ``weightnet``: the reduced global descriptor is computed by the module itself.

    Reference:
        Ma, Zhang, Huang, Sun. WeightNet: Revisiting the Design Space of Weight Networks. ECCV 2020.
    """

    def __init__(
        self, channels: int, kernel_size: int = 3, stride: int = 1, expansion: int = 2, weight_groups: int = 2
    ) -> None:
        _check_ratio(expansion, weight_groups)
        super().__init__(
            channels,
            expansion // weight_groups * channels,
            channels * kernel_size * kernel_size,
            channels,
            kernel_size,
        )
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        k = self.kernel_size
        w = self.generate(x).reshape(-1, self.in_channels, 1, k, k)  # (N, C, 1, k, k)
        return per_sample_conv2d(x, w, self.stride, k // 2, self.in_channels)
