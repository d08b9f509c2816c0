"""Depthwise-separable convolution (MobileNets).

Paper: "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications", Andrew G.
Howard, Menglong Zhu, Bo Chen, Dmitry Kalenichenko, Weijun Wang, Tobias Weyand, Marco Andreetto, Hartwig
Adam, arXiv 2017, https://arxiv.org/abs/1704.04861. Official code (TensorFlow):
https://github.com/tensorflow/models (``research/slim/nets/mobilenet_v1.py``, ``DepthSepConv``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input


@register("mobilenet", kind="block", inputs=(32, 16, 16), in_channels=32, out_channels=64)
class DepthwiseSeparableConv2d(nn.Module):
    """Depthwise-separable convolution: a per-channel KxK conv, then a 1x1 conv that mixes channels.

    A standard ``K x K`` conv filters and combines channels in one step at cost
    ``K^2 C_in C_out H W``. MobileNets factorise it: a depthwise ``K x K`` conv (one filter per input
    channel, ``groups = C_in``) + BN + ReLU, then a pointwise ``1 x 1`` conv to ``C_out`` channels + BN +
    ReLU, at cost ``K^2 C_in H W + C_in C_out H W`` (8-9 times fewer multiply-adds for ``K = 3``).

    Args:
        in_channels: input channels (the depthwise conv's groups).
        out_channels: output channels of the pointwise conv.
        kernel_size: depthwise kernel size (paper: 3).
        stride: stride of the depthwise conv (the pointwise conv has stride 1).
        padding: padding of the depthwise conv; ``None`` gives ``dilation * (kernel_size - 1) // 2``.
        dilation: dilation of the depthwise conv.
        bias: conv biases (False: each conv is followed by BN).
        norm_layer: normalisation after each conv (BatchNorm2d).
        act_layer: activation after each normalisation (paper: ReLU; the official code uses ReLU6).

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H', W')``, ``H' = (H + 2 padding - dilation (K - 1) - 1) // stride + 1``

    Examples:
        >>> import torch, cvattn
        >>> conv = cvattn.create("mobilenet", in_channels=32, out_channels=64, stride=2)
        >>> conv(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 64, 8, 8])

    Deviations:
        The official TensorFlow model uses ReLU6 and "SAME" padding (asymmetric at stride 2); this block
        uses the paper's ReLU (pass ``act_layer="relu6"`` for the official activation) and symmetric
        padding, as PyTorch convs do.

    Reference:
        Howard et al. MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications.
        arXiv:1704.04861, 2017.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | None = None,
        dilation: int = 1,
        bias: bool = False,
        norm_layer: LayerType = nn.BatchNorm2d,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.depthwise = ConvNormAct(
            in_channels,
            in_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups=in_channels,
            bias=bias,
            norm_layer=norm_layer,
            act_layer=act_layer,
        )
        self.pointwise = ConvNormAct(
            in_channels, out_channels, 1, bias=bias, norm_layer=norm_layer, act_layer=act_layer
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        return self.pointwise(self.depthwise(x))
