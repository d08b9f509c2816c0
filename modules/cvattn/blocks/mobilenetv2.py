"""Inverted residual with linear bottleneck (MobileNetV2).

Paper: "MobileNetV2: Inverted Residuals and Linear Bottlenecks", Mark Sandler, Andrew Howard, Menglong Zhu,
Andrey Zhmoginov, Liang-Chieh Chen, CVPR 2018, https://arxiv.org/abs/1801.04381. Official code (TensorFlow):
https://github.com/tensorflow/models (``research/slim/nets/mobilenet/conv_blocks.py``, ``expanded_conv``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input, make_divisible


@register("mobilenetv2", kind="block", inputs=(32, 16, 16), in_channels=32, out_channels=32)
class InvertedResidual(nn.Module):
    """Inverted residual block: 1x1 expansion + ReLU6, depthwise KxK + ReLU6, linear 1x1 projection, shortcut.

    A ResNet bottleneck is wide at its ends and narrow inside; MobileNetV2 inverts it: the block input and
    output are thin bottlenecks of ``C`` channels, a 1x1 conv expands them to ``t C`` channels (BN, ReLU6),
    a depthwise ``K x K`` conv filters them at ``stride`` (BN, ReLU6), and a 1x1 conv projects back to
    ``out_channels`` with BN and *no* activation (the "linear bottleneck": a ReLU in the narrow space would
    destroy information that the low-dimensional manifold of features cannot spare). The shortcut joins the
    two bottlenecks when ``stride == 1`` and the widths agree (paper, Table 1).

    Args:
        in_channels: input channels ``C`` (the bottleneck).
        out_channels: output channels.
        stride: stride of the depthwise conv (1 or 2 in the paper).
        expand_ratio: expansion factor ``t`` (paper: 6; 1 in the first block, which then has no expansion
            conv). The expanded width is ``make_divisible(t C, 8)``; the expansion conv is left out when that
            is not wider than ``C``, as in the official ``expanded_conv``.
        kernel_size: depthwise kernel (paper: 3).
        dilation: dilation of the depthwise conv (the official ``rate``, used by Mobile DeepLabv3).
        residual: add the shortcut when ``stride == 1`` and ``in_channels == out_channels``.
        norm_layer: normalisation after each conv (BatchNorm2d).
        act_layer: activation after the expansion and the depthwise conv (paper: ReLU6).

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H', W')``, ``H' = (H - 1) // stride + 1``

    Examples:
        >>> import torch, cvattn
        >>> block = cvattn.create("mobilenetv2", in_channels=32, out_channels=32)
        >>> block(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 32, 16, 16])
        >>> cvattn.create("mobilenetv2", in_channels=32, out_channels=64, stride=2)(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 64, 8, 8])

    Deviations:
        The official TensorFlow model pads "SAME" (asymmetrically at stride 2) and uses TF-Slim's batch-norm
        epsilon 1e-3; this block pads symmetrically, as PyTorch convs do, with ``nn.BatchNorm2d``'s defaults.

    Reference:
        Sandler et al. MobileNetV2: Inverted Residuals and Linear Bottlenecks. CVPR 2018.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        expand_ratio: float = 6.0,
        kernel_size: int = 3,
        dilation: int = 1,
        residual: bool = True,
        norm_layer: LayerType = nn.BatchNorm2d,
        act_layer: LayerType = nn.ReLU6,
    ) -> None:
        super().__init__()
        hidden = make_divisible(in_channels * expand_ratio, 8)
        self.in_channels = in_channels
        self.use_shortcut = residual and stride == 1 and in_channels == out_channels
        if hidden > in_channels:
            self.expand = ConvNormAct(in_channels, hidden, 1, norm_layer=norm_layer, act_layer=act_layer)
        else:
            self.expand, hidden = nn.Identity(), in_channels
        self.depthwise = ConvNormAct(
            hidden,
            hidden,
            kernel_size,
            stride,
            dilation=dilation,
            groups=hidden,
            norm_layer=norm_layer,
            act_layer=act_layer,
        )
        self.project = ConvNormAct(hidden, out_channels, 1, norm_layer=norm_layer, act_layer=None)  # linear

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        out = self.project(self.depthwise(self.expand(x)))
        return x + out if self.use_shortcut else out
