"""Atrous Spatial Pyramid Pooling of DeepLabv3 (with image-level features and batch norm).

Paper: "Rethinking Atrous Convolution for Semantic Image Segmentation", Liang-Chieh Chen, George
Papandreou, Florian Schroff, Hartwig Adam, arXiv 2017, https://arxiv.org/abs/1706.05587.
Official code (TensorFlow): https://github.com/tensorflow/models/tree/master/research/deeplab
(``model.py``, ``extract_features``: branches ``aspp0`` .. ``aspp3``, ``image_pooling``, ``concat_projection``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import BatchNormAnyBatch2d, ConvNormAct, LayerType, check_input


@register("deeplabv3-aspp", kind="block", inputs=(64, 16, 16), in_channels=64)
class DeepLabV3ASPP(nn.Module):
    """DeepLabv3 ASPP: a 1x1 conv, three 3x3 atrous convs and image pooling, concatenated and projected.

    Five parallel branches see the feature map ``x`` at different fields of view: ``b0 = conv1x1(x)``,
    ``b_r = conv3x3_r(x)`` for the atrous rates ``r`` (6, 12, 18 at output stride 16), and the
    image-level feature ``b_pool = up(conv1x1(avgpool(x)))`` (global average pooling, broadcast back to
    ``H x W``, which is what bilinear up-sampling of a 1x1 map gives). Every conv has ``out_channels``
    (256) filters, batch norm and ReLU. The branches are concatenated and projected by another
    1x1 conv + BN + ReLU to ``out_channels``, followed by dropout.

    Args:
        in_channels: input channels.
        out_channels: filters of every branch and of the projection (paper: 256).
        rates: atrous rates of the 3x3 branches (paper: 6, 12, 18 at output stride 16; doubled at 8).
        dropout: dropout probability after the projection (official code: keep probability 0.9).
        norm_layer: normalisation after every conv (BatchNorm2d).
        act_layer: activation after every normalisation (ReLU).

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> aspp = cvattn.create("deeplabv3-aspp", in_channels=64, out_channels=256)
        >>> aspp(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 256, 16, 16])

    Deviations:
        The branches are concatenated in the paper's order (1x1, atrous, image pooling); the official
        code puts image pooling first, which only permutes the projection's input channels. The image
        pooling branch normalises with :class:`~cvattn.layers.BatchNormAnyBatch2d` (plain batch norm except
        that a training batch of one pooled sample uses the running statistics instead of failing).

    Reference:
        Chen, Papandreou, Schroff, Adam. Rethinking Atrous Convolution for Semantic Image Segmentation.
        arXiv:1706.05587, 2017.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int = 256,
        rates: tuple[int, ...] = (6, 12, 18),
        dropout: float = 0.1,
        norm_layer: LayerType = nn.BatchNorm2d,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.rates = tuple(rates)
        self.conv1x1 = ConvNormAct(in_channels, out_channels, 1, norm_layer=norm_layer, act_layer=act_layer)
        self.atrous = nn.ModuleList(
            ConvNormAct(in_channels, out_channels, 3, dilation=r, norm_layer=norm_layer, act_layer=act_layer)
            for r in self.rates
        )
        pool_norm = BatchNormAnyBatch2d if norm_layer is nn.BatchNorm2d else norm_layer
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.image_pool = ConvNormAct(in_channels, out_channels, 1, norm_layer=pool_norm, act_layer=act_layer)
        n_branches = 2 + len(self.rates)
        self.project = ConvNormAct(
            n_branches * out_channels, out_channels, 1, norm_layer=norm_layer, act_layer=act_layer
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        b_0 = self.conv1x1(x)
        b_atrous = [conv(x) for conv in self.atrous]
        b_pool = self.image_pool(self.pool(x))  # (N, C', 1, 1)
        b_pool = b_pool.expand(-1, -1, x.shape[2], x.shape[3])  # up-sampled to (N, C', H, W)
        y = torch.cat([b_0, *b_atrous, b_pool], dim=1)  # (N, (2 + len(rates)) C', H, W)
        return self.dropout(self.project(y))
