"""Ghost module.

Paper: "GhostNet: More Features from Cheap Operations", Kai Han, Yunhe Wang, Qi Tian, Jianyuan Guo, Chunjing Xu,
Chang Xu, CVPR 2020, https://arxiv.org/abs/1911.11907.
Official code: https://github.com/huawei-noah/Efficient-AI-Backbones (``ghostnet_pytorch/ghostnet.py``,
``GhostModule``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input


@register("ghostnet", kind="block", inputs=(32, 16, 16), in_channels=32, out_channels=64)
class GhostModule(nn.Module):
    """Ghost module: a few intrinsic feature maps from an ordinary convolution, the rest ("ghosts") from cheap
    depthwise convolutions of them.

    ``Y' = conv_{k}(X)`` with ``m = ceil(n / s)`` channels, ``Y'' = dwconv_{d}(Y')`` with ``m (s - 1)``
    channels, and ``Y = [Y', Y''][:n]``; each conv is followed by BN and, optionally, ReLU. About ``s``
    times fewer FLOPs and parameters than a plain convolution to ``n`` channels.

    Args:
        in_channels: input channels.
        out_channels: output channels ``n``.
        kernel_size: kernel of the primary convolution (1).
        ratio: ``s``, outputs per intrinsic map (2).
        dw_size: kernel ``d`` of the cheap depthwise convolution (3).
        stride: stride of the primary convolution.
        relu: apply ReLU after both convolutions (true).
        norm_layer: normalisation (BatchNorm2d).

    Shape:
        - Input: ``(N, C_in, H, W)``
        - Output: ``(N, n, H / stride, W / stride)``

    Examples:
        >>> import torch, cvattn
        >>> ghost = cvattn.create("ghostnet", in_channels=32, out_channels=64)
        >>> ghost(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Reference:
        Han et al. GhostNet: More Features from Cheap Operations. CVPR 2020.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 1,
        ratio: int = 2,
        dw_size: int = 3,
        stride: int = 1,
        relu: bool = True,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        init_channels = math.ceil(out_channels / ratio)
        act = nn.ReLU if relu else None
        self.primary_conv = ConvNormAct(
            in_channels,
            init_channels,
            kernel_size,
            stride,
            kernel_size // 2,
            norm_layer=norm_layer,
            act_layer=act,
        )
        self.cheap_operation = ConvNormAct(
            init_channels,
            init_channels * (ratio - 1),
            dw_size,
            1,
            dw_size // 2,
            groups=init_channels,
            norm_layer=norm_layer,
            act_layer=act,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        intrinsic = self.primary_conv(x)  # Y'
        ghosts = self.cheap_operation(intrinsic)  # Y''
        return torch.cat([intrinsic, ghosts], 1)[:, : self.out_channels]
