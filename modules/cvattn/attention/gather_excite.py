"""Gather-Excite.

Paper: "Gather-Excite: Exploiting Feature Context in Convolutional Neural Networks", Jie Hu, Li Shen,
Samuel Albanie, Gang Sun, Andrea Vedaldi, NeurIPS 2018, https://arxiv.org/abs/1810.12348.
Official code (Torch/Caffe models): https://github.com/hujie-frank/GENet.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input, create_act


class _GatherExcite(nn.Module):
    """Shared body of the three variants (see :class:`GatherExcite`)."""

    def __init__(
        self, channels: int, extent: int, param: bool, mlp: bool, reduction: int, act_layer: LayerType
    ) -> None:
        super().__init__()
        if extent and (extent & (extent - 1)):
            raise ValueError(f"extent must be 0 (global) or a power of two, got {extent}")
        self.channels, self.extent = channels, extent
        if param:
            steps = max(1, int(math.log2(extent))) if extent else 1
            layers = [
                ConvNormAct(
                    channels,
                    channels,
                    3,
                    stride=2,
                    groups=channels,
                    act_layer=act_layer if i < steps - 1 else None,
                )
                for i in range(steps)
            ]
            self.gather = nn.Sequential(*layers)
        else:
            self.gather = None
        self.mlp = (
            nn.Sequential(
                nn.Conv2d(channels, max(1, channels // reduction), 1),
                create_act(act_layer, inplace=True),
                nn.Conv2d(max(1, channels // reduction), channels, 1),
            )
            if mlp
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        if self.gather is not None:
            g = self.gather(x)  # strided depthwise gather
            if not self.extent:
                g = g.mean((2, 3), keepdim=True)  # global extent
        elif self.extent:
            e = self.extent
            g = F.avg_pool2d(x, 2 * e - 1, stride=e, padding=e - 1, count_include_pad=False)
        else:
            g = x.mean((2, 3), keepdim=True)  # parameter-free, global extent
        if self.mlp is not None:
            g = self.mlp(g)
        if self.extent:
            g = F.interpolate(g, size=(x.shape[2], x.shape[3]), mode="nearest")  # excite: back to full size
        return x * torch.sigmoid(g)


@register("gather-excite", kind="attention", inputs=(64, 14, 14), channels=64)
class GatherExcite(_GatherExcite):
    """Gather-Excite, parameter-free (GE-theta-minus): gather context by average pooling over an extent,
    excite by a sigmoid gate resized to the input.

    Gather: ``g = avgpool_e(x)`` (global average when ``extent = 0``, the paper's best setting); excite:
    ``x * sigmoid(interp(g))``. No parameters at all.

    Args:
        channels: input channels ``C``.
        extent: gather extent ``e``: 0 for global (default) or a power of two (pooling window ``2e-1``,
            stride ``e``, as the official and timm code).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> ge = cvattn.create("gather-excite", channels=64)
        >>> ge(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Reference:
        Hu, Shen, Albanie, Sun, Vedaldi. Gather-Excite: Exploiting Feature Context in Convolutional Neural
        Networks. NeurIPS 2018.
    """

    def __init__(self, channels: int, extent: int = 0) -> None:
        super().__init__(channels, extent, param=False, mlp=False, reduction=16, act_layer=nn.ReLU)


@register("gather-excite-param", kind="attention", inputs=(64, 16, 16), channels=64)
class GatherExciteParam(_GatherExcite):
    """Gather-Excite with a parametric gather (GE-theta): strided depthwise 3x3 convolutions with BN.

    ``log2(e)`` depthwise convolutions of stride 2 (BN, and ReLU between them) gather over extent ``e``;
    with ``extent = 0`` one such convolution is followed by a global average. Excite as in
    ``gather-excite``.

    Args:
        channels: input channels ``C``.
        extent: gather extent ``e`` (8; 0 for global).
        act_layer: activation between the gather convolutions (ReLU).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> ge = cvattn.create("gather-excite-param", channels=64)
        >>> ge(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        The paper's global GE-theta uses a depthwise convolution as large as the feature map, which fixes the
        input size; a stride-2 depthwise convolution followed by a global average is used for
        ``extent = 0`` instead, and the default extent is 8 so that any input size works.

    Reference:
        Hu, Shen, Albanie, Sun, Vedaldi. Gather-Excite. NeurIPS 2018.
    """

    def __init__(self, channels: int, extent: int = 8, act_layer: LayerType = nn.ReLU) -> None:
        super().__init__(channels, extent, param=True, mlp=False, reduction=16, act_layer=act_layer)


@register("gather-excite-plus", kind="attention", inputs=(64, 16, 16), channels=64)
class GatherExcitePlus(_GatherExcite):
    """Gather-Excite plus (GE-theta-plus): the parametric gather followed by an SE-style bottleneck
    (1x1 conv ``C -> C/r``, ReLU, 1x1 conv ``C/r -> C``) before the excite.

    Args:
        channels: input channels ``C``.
        extent: gather extent ``e`` (8; 0 for global).
        reduction: bottleneck ratio ``r`` (16).
        act_layer: activation (ReLU).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> ge = cvattn.create("gather-excite-plus", channels=64)
        >>> ge(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        As ``gather-excite-param`` for the gather.

    Reference:
        Hu, Shen, Albanie, Sun, Vedaldi. Gather-Excite. NeurIPS 2018.
    """

    def __init__(
        self, channels: int, extent: int = 8, reduction: int = 16, act_layer: LayerType = nn.ReLU
    ) -> None:
        super().__init__(channels, extent, param=True, mlp=True, reduction=reduction, act_layer=act_layer)
