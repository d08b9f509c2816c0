"""Efficient Channel Attention.

Paper: "ECA-Net: Efficient Channel Attention for Deep Convolutional Neural Networks", Qilong Wang, Banggu Wu,
Pengfei Zhu, Peihua Li, Wangmeng Zuo, Qinghua Hu, CVPR 2020, https://arxiv.org/abs/1910.03151.
Official code: https://github.com/BangguWu/ECANet (``models/eca_module.py``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act


def eca_kernel_size(channels: int, gamma: int = 2, b: int = 1) -> int:
    """The paper's adaptive kernel size ``k = |log2(C) / gamma + b / gamma|_odd`` (Eq. 12)."""
    t = int(abs((math.log2(channels) + b) / gamma))
    return t if t % 2 else t + 1


@register("eca", kind="attention", inputs=(64, 14, 14), channels=64)
class ECA(nn.Module):
    """ECA: channel attention by a 1-D convolution across the pooled channel descriptor, without reduction.

    ``y = mean_{H,W}(x)`` is treated as a sequence of C values; a 1-D convolution of size ``k`` (no bias)
    lets each channel interact with its ``k`` neighbours, and ``x * sigmoid(conv1d(y))`` is returned. The
    kernel size follows the paper's adaptive rule unless it is given.

    Args:
        channels: input channels ``C``.
        kernel_size: size ``k`` of the 1-D convolution; ``None`` (default) applies the adaptive rule
            ``k = |log2(C)/gamma + b/gamma|_odd`` (3 for C=64, 5 for C=256 and 512, 7 for C=2048).
        gamma: ``gamma`` of the adaptive rule (2).
        b: ``b`` of the adaptive rule (1).
        gate_layer: gating function (sigmoid).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> eca = cvattn.create("eca", channels=256)
        >>> eca.kernel_size
        5
        >>> eca(torch.randn(2, 256, 7, 7)).shape
        torch.Size([2, 256, 7, 7])

    Deviations:
        The official ECA-ResNet code passes ``k_size=3`` to every block; the default here is the adaptive
        rule of the paper (Sec. 3.3), which ECA-MobileNetV2 and the paper's analysis use. Pass
        ``kernel_size=3`` for the official ResNet setting. Parameters: ``k`` either way.

    Reference:
        Wang et al. ECA-Net: Efficient Channel Attention for Deep Convolutional Neural Networks. CVPR 2020.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int | None = None,
        gamma: int = 2,
        b: int = 1,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.channels = channels
        self.kernel_size = kernel_size or eca_kernel_size(channels, gamma, b)
        self.conv = nn.Conv1d(1, 1, self.kernel_size, padding=(self.kernel_size - 1) // 2, bias=False)
        self.gate = create_act(gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        y = x.mean((2, 3))  # (N, C)
        w = self.gate(self.conv(y.unsqueeze(1)))  # 1-D conv across channels: (N, 1, C)
        return x * w.transpose(1, 2).unsqueeze(-1)  # (N, C, 1, 1)
