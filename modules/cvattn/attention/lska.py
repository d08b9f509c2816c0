"""Large separable kernel attention (LSKA).

Paper: "Large Separable Kernel Attention: Rethinking the Large Kernel Attention Design in CNN", Kin Wai Lau,
Lai-Man Po, Yasar Abbas Ur Rehman, arXiv 2023 (published in Expert Systems with Applications, vol. 236),
https://arxiv.org/abs/2309.01439. Official code: https://github.com/StevenLauHKHK/Large-Separable-Kernel-Attention
(``models/van.py``, ``LSKA``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input

# kernel size k -> (depthwise length, dilated depthwise length, dilation), the official table
_DECOMPOSITION = {7: (3, 3, 2), 11: (3, 5, 2), 23: (5, 7, 3), 35: (5, 11, 3), 41: (5, 13, 3), 53: (5, 17, 3)}


def _strip(channels: int, length: int, dilation: int, vertical: bool) -> nn.Conv2d:
    """A depthwise ``1 x length`` (or ``length x 1``) convolution with 'same' zero padding."""
    pad = dilation * (length - 1) // 2
    size, padding = ((length, 1), (pad, 0)) if vertical else ((1, length), (0, pad))
    return nn.Conv2d(channels, channels, size, padding=padding, dilation=dilation, groups=channels)


@register("lska", kind="attention", inputs=(64, 14, 14), channels=64, kernel_size=7)
class LargeSeparableKernelAttention(nn.Module):
    """LSKA: VAN's large kernel attention with each 2-D depthwise kernel split into a horizontal and a vertical
    1-D kernel.

    For kernel size ``k`` with the official decomposition into a depthwise length ``a`` and a dilated depthwise
    length ``b`` with dilation ``d`` (k = 7: 3, 3, d = 2; 11: 3, 5, 2; 23: 5, 7, 3; 35: 5, 11, 3; 41: 5, 13, 3;
    53: 5, 17, 3), ``attn = Conv_{1x1}(DW-D_{b x 1}(DW-D_{1 x b}(DW_{a x 1}(DW_{1 x a}(x)))))`` and the output is
    ``attn * x`` (element-wise). The cascade has the receptive field of LKA's ``a x a`` and dilated ``b x b``
    kernels with parameters and cost linear, not quadratic, in the kernel length. Memory grows with ``H*W*C``
    (linear in the number of pixels).

    Args:
        channels: channels ``C``.
        kernel_size: the large kernel ``k`` that is decomposed, one of 7, 11, 23, 35, 41, 53 (official default 7;
            the released ImageNet model uses 23).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> lska = cvattn.create("lska", channels=64, kernel_size=7)
        >>> lska(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Reference:
        Lau, Po, Rehman. Large Separable Kernel Attention: Rethinking the Large Kernel Attention Design in CNN.
        arXiv:2309.01439, 2023; published in Expert Systems with Applications, vol. 236.
    """

    def __init__(self, channels: int, kernel_size: int = 7) -> None:
        super().__init__()
        if kernel_size not in _DECOMPOSITION:
            raise ValueError(f"kernel_size must be one of {sorted(_DECOMPOSITION)}, got {kernel_size}")
        a, b, d = _DECOMPOSITION[kernel_size]
        self.channels, self.kernel_size = channels, kernel_size
        self.conv0h = _strip(channels, a, 1, vertical=False)
        self.conv0v = _strip(channels, a, 1, vertical=True)
        self.conv_spatial_h = _strip(channels, b, d, vertical=False)
        self.conv_spatial_v = _strip(channels, b, d, vertical=True)
        self.conv1 = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        local = self.conv0v(self.conv0h(x))  # a x a depthwise, as 1 x a then a x 1
        context = self.conv_spatial_v(self.conv_spatial_h(local))  # dilated b x b, as 1 x b then b x 1
        attn = self.conv1(context)
        return attn * x
