"""Large selective kernel (LSK) module of LSKNet.

Paper: "Large Selective Kernel Network for Remote Sensing Object Detection", Yuxuan Li, Qibin Hou, Zhaohui
Zheng, Ming-Ming Cheng, Jian Yang, Xiang Li, ICCV 2023, https://arxiv.org/abs/2303.09030.
Official code: https://github.com/zcablii/LSKNet (``mmrotate/models/backbones/lsknet.py``, ``LSKblock``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input


@register("lsknet", kind="attention", inputs=(64, 14, 14), channels=64)
class LSKModule(nn.Module):
    """LSK module: a spatial selection between the outputs of two depthwise kernels of growing receptive field.

    Large-kernel decomposition: ``U1 = DW5x5(x)`` and ``U2 = DW7x7_{d=3}(U1)`` (a 23x23 receptive field),
    each projected to ``C/2`` channels by a 1x1 conv, ``~U_i``. Spatial kernel selection: the channel-wise
    mean and max of ``[~U1; ~U2]`` pass a 7x7 conv ``2 -> 2`` and a sigmoid, giving one spatial mask
    ``SA_i`` per kernel; ``S = Conv1x1(SA_1 * ~U1 + SA_2 * ~U2)`` (``C/2 -> C``) and the output is
    ``x * S``. Memory grows linearly with ``H*W``.

    Args:
        channels: input channels ``C`` (at least 2; the two kernels' features have ``C // 2`` channels).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> lsk = cvattn.create("lsknet", channels=64)
        >>> lsk(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        None in the computation. This is the official ``LSKblock``; the official ``Attention`` around it
        (1x1 conv, GELU, this module, 1x1 conv, residual) belongs to the LSKNet block and is not included.

    Reference:
        Li, Hou, Zheng, Cheng, Yang, Li. Large Selective Kernel Network for Remote Sensing Object
        Detection. ICCV 2023.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        if channels < 2:
            raise ValueError(f"channels must be at least 2 (each kernel keeps channels // 2), got {channels}")
        self.channels = channels
        self.conv0 = nn.Conv2d(channels, channels, 5, padding=2, groups=channels)
        self.conv_spatial = nn.Conv2d(channels, channels, 7, padding=9, dilation=3, groups=channels)
        self.conv1 = nn.Conv2d(channels, channels // 2, 1)
        self.conv2 = nn.Conv2d(channels, channels // 2, 1)
        self.conv_squeeze = nn.Conv2d(2, 2, 7, padding=3)
        self.conv = nn.Conv2d(channels // 2, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        u1 = self.conv0(x)  # 5x5 depthwise
        u2 = self.conv_spatial(u1)  # 7x7 depthwise, dilation 3
        u1, u2 = self.conv1(u1), self.conv2(u2)  # (N, C/2, H, W) each
        u = torch.cat([u1, u2], dim=1)
        pooled = torch.cat([u.mean(1, keepdim=True), u.amax(1, keepdim=True)], dim=1)  # (N, 2, H, W)
        sa = torch.sigmoid(self.conv_squeeze(pooled))  # one spatial mask per kernel
        s = self.conv(u1 * sa[:, :1] + u2 * sa[:, 1:])
        return x * s
