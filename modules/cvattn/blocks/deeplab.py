"""Atrous Spatial Pyramid Pooling of DeepLab v2.

Paper: "DeepLab: Semantic Image Segmentation with Deep Convolutional Nets, Atrous Convolution, and Fully
Connected CRFs", Liang-Chieh Chen, George Papandreou, Iasonas Kokkinos, Kevin Murphy, Alan L. Yuille,
TPAMI 2018 (arXiv 2016), https://arxiv.org/abs/1606.00915. Official code (Caffe):
https://bitbucket.org/aquariusjay/deeplab-public-ver2 (ResNet-101 prototxt: layers ``fc1_voc12_c0`` ..
``fc1_voc12_c3`` summed by ``fc1_voc12``; VGG-16 prototxt: ``fc6_1`` .. ``fc8_voc12_4``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act


@register("deeplab-aspp", kind="block", inputs=(64, 16, 16), in_channels=64, out_channels=21)
class DeepLabV2ASPP(nn.Module):
    """DeepLab v2 ASPP: parallel 3x3 atrous convs at rates 6, 12, 18, 24 whose outputs are summed.

    Each branch looks at the same feature map with a different field of view (dilation ``r``); the branch
    outputs, already class scores, are fused by summation: ``y = sum_r conv3x3_r(x)``. This is the ASPP
    of the paper's ResNet-101 model (``ASPP-L``, one atrous conv per branch, with bias). With
    ``hidden_channels`` set, each branch is the paper's VGG-16 form instead: ``fc6`` (3x3, rate ``r``,
    ``hidden_channels``) -> ReLU -> dropout -> ``fc7`` (1x1) -> ReLU -> dropout -> ``fc8`` (1x1, scores).

    Args:
        in_channels: input channels.
        out_channels: output channels (the number of classes in the paper, e.g. 21 for PASCAL VOC).
        rates: atrous rates, one branch each (paper's ASPP-L: 6, 12, 18, 24; ASPP-S: 2, 4, 8, 12).
        hidden_channels: ``None`` for the ResNet-101 branches (one conv); e.g. 1024 for the VGG-16
            branches (fc6-fc7-fc8).
        dropout: dropout probability after ``fc6`` and ``fc7`` in the VGG-16 branches (0.5).
        act_layer: activation after ``fc6`` and ``fc7`` in the VGG-16 branches (ReLU).

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> aspp = cvattn.create("deeplab-aspp", in_channels=64, out_channels=21)
        >>> aspp(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 21, 16, 16])

    Reference:
        Chen, Papandreou, Kokkinos, Murphy, Yuille. DeepLab: Semantic Image Segmentation with Deep
        Convolutional Nets, Atrous Convolution, and Fully Connected CRFs. TPAMI 2018.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        rates: tuple[int, ...] = (6, 12, 18, 24),
        hidden_channels: int | None = None,
        dropout: float = 0.5,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.rates = tuple(rates)

        def branch(r: int) -> nn.Module:
            if hidden_channels is None:
                return nn.Conv2d(in_channels, out_channels, 3, padding=r, dilation=r)
            return nn.Sequential(
                nn.Conv2d(in_channels, hidden_channels, 3, padding=r, dilation=r),  # fc6
                create_act(act_layer, inplace=True),
                nn.Dropout(dropout),
                nn.Conv2d(hidden_channels, hidden_channels, 1),  # fc7
                create_act(act_layer, inplace=True),
                nn.Dropout(dropout),
                nn.Conv2d(hidden_channels, out_channels, 1),  # fc8
            )

        self.branches = nn.ModuleList(branch(r) for r in self.rates)
        for m in self.modules():  # official: gaussian(std 0.01) weights, zero biases
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, std=0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        y = self.branches[0](x)
        for branch in self.branches[1:]:
            y = y + branch(x)  # fusion by sum
        return y
