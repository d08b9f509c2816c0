"""Poly-scale convolution.

Paper: "PSConv: Squeezing Feature Pyramid into One Compact Poly-Scale Convolutional Layer", Duo Li,
Anbang Yao, Qifeng Chen, ECCV 2020, https://arxiv.org/abs/2007.06191.
Official code: https://github.com/d-li14/PSConv (``mmdet/models/utils/psconv.py``, ``PSConv2d`` and
``PSGConv2d``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_divisible, check_input


@register(
    "psconv",
    kind="block",
    inputs=(64, 16, 16),
    in_channels=64,
    out_channels=64,
    kernel_size=3,
    padding=1,
    dilation=2,
)
class PSConv2d(nn.Module):
    """PSConv: a drop-in ``nn.Conv2d`` whose kernel uses a different dilation rate for each block of
    (output, input) channels, so that every output channel sees several scales.

    The channels of each convolution group are split into ``parts`` parts along both the input and the output
    axis, which cuts the kernel into a ``parts x parts`` grid of blocks. Block (output part ``o``, input part
    ``i``) has dilation ``dilation`` when ``o = i``, ``2 * dilation`` when ``o = i + parts/2 (mod parts)`` and
    1 otherwise; for ``parts = 4`` each output part thus mixes rates 1, d and 2d over its inputs, cyclically
    shifted from part to part. As in the official code the three rates are three convolutions whose outputs
    are summed: a grouped convolution (``groups * parts`` groups) with rate ``d`` on the input, one with rate
    ``2d`` on the input whose parts are rolled by ``parts/2`` within each group (the official swap of the two
    halves), and a dense convolution with rate 1 whose weights on the blocks of the other two are masked to
    zero.

    Args:
        in_channels: input channels (divisible by ``groups * parts``).
        out_channels: output channels (divisible by ``groups * parts``).
        kernel_size: odd kernel size (3 in the paper).
        stride: stride.
        padding: padding of the rate-1 convolution; the dilated ones are padded to give the same output size
            (``padding + (r - 1) * (kernel_size - 1) / 2`` for rate ``r``).
        dilation: rate ``d`` (the official class defaults to 1; PS-ResNet and PS-ResNeXt use 2, which is
            the registered default).
        groups: convolution groups (the official ``PSGConv2d`` when above 1).
        bias: give each of the three convolutions a bias (none in the official backbones).
        parts: number of parts per group (4; at least 2).

    Shape:
        - Input: ``(N, C_in, H, W)``
        - Output: ``(N, C_out, H', W')`` as ``nn.Conv2d`` with the same ``kernel_size``, ``stride`` and
          ``padding``.

    Examples:
        >>> import torch, cvattn
        >>> conv = cvattn.create("psconv", in_channels=64, out_channels=128, padding=1, dilation=2)
        >>> conv(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 128, 16, 16])

    Deviations:
        The official code keeps the masked weights of the dense convolution at zero with a gradient hook on a
        CUDA mask; here the weight is multiplied by the mask in ``forward`` (same output, same gradients, also
        on CPU; the parameter count includes the masked entries, as official). The official ``PSGConv2d``
        places the mask at output block ``i + j * groups`` for part ``i`` of group ``j``, which is wrong
        unless ``groups == parts``; here it is block ``j * parts + i``, matching its grouped convolutions. The
        dilated convolutions are padded by the general rule above, which equals the official
        ``padding = rate`` for ``kernel_size=3, padding=1`` (the official code only gives matching sizes in
        that case). The rolled input equals the official half swap for even ``parts``.

    Reference:
        Li, Yao, Chen. PSConv: Squeezing Feature Pyramid into One Compact Poly-Scale Convolutional Layer.
        ECCV 2020.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 1,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = False,
        parts: int = 4,
    ) -> None:
        super().__init__()
        check_divisible(in_channels, out_channels, groups * parts, "groups * parts")
        if parts < 2:
            raise ValueError(f"parts must be at least 2, got {parts}")
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.groups, self.parts = groups, parts
        half = (kernel_size - 1) // 2
        d = dilation
        pad_d, pad_2d = padding + (d - 1) * half, padding + (2 * d - 1) * half  # output size of rate 1
        self.gwconv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride, pad_d, d, groups * parts, bias
        )
        self.gwconv_shift = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride, pad_2d, 2 * d, groups * parts, bias
        )
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, 1, groups, bias)
        # 1 where the dense convolution is used, 0 on the blocks of the two dilated ones
        out_part, in_part = out_channels // (groups * parts), in_channels // (groups * parts)
        dense = torch.ones(out_channels, in_channels // groups, 1, 1)
        for j in range(groups):
            for i in range(parts):
                for o in (i, (i + parts // 2) % parts):
                    rows = slice((j * parts + o) * out_part, (j * parts + o + 1) * out_part)
                    dense[rows, i * in_part : (i + 1) * in_part] = 0
        self.register_buffer("dense_mask", dense, persistent=False)
        with torch.no_grad():
            self.conv.weight.mul_(dense)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        # roll the parts of each group: part p of the result is part p - parts/2 of x
        x_shift = x.unflatten(1, (self.groups, self.parts, -1))  # (N, groups, parts, C_in/groups/parts, H, W)
        x_shift = x_shift.roll(self.parts // 2, 2).flatten(1, 3)  # (N, C_in, H, W)
        y_d = self.gwconv(x)  # rate d on the diagonal blocks
        y_2d = self.gwconv_shift(x_shift)  # rate 2d on the shifted diagonal
        c = self.conv
        y_1 = F.conv2d(x, c.weight * self.dense_mask, c.bias, c.stride, c.padding, 1, self.groups)  # the rest
        return y_d + y_1 + y_2d
