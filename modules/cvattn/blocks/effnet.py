"""EffNet block: a bottleneck with spatially separable depthwise convolutions and separable downsampling.

Paper: "EffNet: An Efficient Structure for Convolutional Neural Networks", Ido Freeman, Lutz Roese-Koerner,
Anton Kummert, ICIP 2018, https://arxiv.org/abs/1801.06434.
Official code: none by the authors could be found. The paper (Fig. 1 and the architecture table: "1x1 conv,
dw 1x3 + 1d mp, dw 3x1, 2x1 conv + 1d stride") is followed; where it is silent, the widely used Keras
implementation https://github.com/arthurdouillard/keras-effnet (``effnet.py``, ``get_block``, by a third
party) fills it in.
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act, get_layer

#: Keras' ``LeakyReLU()`` (slope 0.3), the activation of every conv of the Keras block.
_KERAS_LEAKY_RELU = partial(nn.LeakyReLU, negative_slope=0.3)


class _ConvActNorm(nn.Sequential):
    """Conv2d (no bias) → activation → norm, the order of the Keras block's ``get_post``."""

    def __init__(self, conv: nn.Conv2d, act_layer: LayerType, norm_layer: LayerType) -> None:
        norm = get_layer(norm_layer)
        super().__init__()
        self.conv = conv
        self.act = create_act(act_layer)
        self.bn = norm(conv.out_channels) if norm is not None else nn.Identity()


@register("effnet", kind="block", inputs=(32, 16, 16), in_channels=32, out_channels=64)
class EffNetBlock(nn.Module):
    """EffNet block: 1x1 bottleneck, depthwise 1x3, 1x2 max-pool, depthwise 3x1, strided 2x1 conv.

    A MobileNet block whose 3x3 depthwise convolution is split into a depthwise ``1 x 3`` (along the width)
    and a depthwise ``3 x 1`` (along the height) convolution, with the downsampling split the same way: a
    ``1 x 2`` max-pooling after the ``1 x 3`` conv halves the width, and the final pointwise convolution
    becomes a ``2 x 1`` convolution with stride ``2 x 1`` that halves the height and maps the bottleneck
    to ``out_channels``. The bottleneck is moderate (``out_channels / 2`` channels, bottleneck factor 2) to
    suit narrow networks. Every convolution is followed by the activation and a BatchNorm; none has a bias.
    The block halves ``H`` and ``W`` and has no residual connection.

    Args:
        in_channels: input channels.
        out_channels: output channels (the paper doubles the channels in each block: ``2 * in_channels``).
        reduction: bottleneck factor: the block's 1x1 conv and depthwise convs have
            ``out_channels // reduction`` channels (2).
        act_layer: activation after every conv (Keras' ``LeakyReLU``, slope 0.3).
        norm_layer: normalisation after every activation (BatchNorm2d).

    Shape:
        - Input: ``(N, C_in, H, W)``, ``H, W >= 2``
        - Output: ``(N, C_out, H // 2, W // 2)``

    Examples:
        >>> import torch, cvattn
        >>> block = cvattn.create("effnet", in_channels=32, out_channels=64)
        >>> block(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 64, 8, 8])

    Deviations:
        No code by the authors was found; the layers follow the paper, and the unstated details (no bias,
        activation then BatchNorm after every conv, LeakyReLU with Keras' default slope 0.3) follow the
        third-party Keras implementation. That implementation pools ``2 x 1`` (along the height) after the
        ``1 x 3`` conv and strides its ``2 x 1`` conv along the width; here the pooling and the stride follow
        the paper's ``1 x 2`` and ``2 x 1``, each along the axis its preceding separable conv has just
        filtered. Odd sizes are rounded down (PyTorch's pooling and unpadded strided conv) instead of up
        (Keras' "same" padding of the strided conv).

    Reference:
        Freeman, Roese-Koerner, Kummert. EffNet: An Efficient Structure for Convolutional Neural Networks.
        ICIP 2018.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        reduction: int = 2,
        act_layer: LayerType = _KERAS_LEAKY_RELU,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        bottleneck = out_channels // reduction
        if bottleneck < 1:
            raise ValueError(
                f"EffNetBlock: out_channels // reduction must be >= 1, got {out_channels} // {reduction}"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.bottleneck = _ConvActNorm(
            nn.Conv2d(in_channels, bottleneck, 1, bias=False), act_layer, norm_layer
        )
        self.dw_1x3 = _ConvActNorm(
            nn.Conv2d(bottleneck, bottleneck, (1, 3), padding=(0, 1), groups=bottleneck, bias=False),
            act_layer,
            norm_layer,
        )
        self.pool_1x2 = nn.MaxPool2d((1, 2), (1, 2))
        self.dw_3x1 = _ConvActNorm(
            nn.Conv2d(bottleneck, bottleneck, (3, 1), padding=(1, 0), groups=bottleneck, bias=False),
            act_layer,
            norm_layer,
        )
        self.conv_2x1 = _ConvActNorm(
            nn.Conv2d(bottleneck, out_channels, (2, 1), stride=(2, 1), bias=False), act_layer, norm_layer
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        x = self.bottleneck(x)  # (N, C_out / 2, H, W)
        x = self.dw_1x3(x)
        x = self.pool_1x2(x)  # (N, C_out / 2, H, W // 2)
        x = self.dw_3x1(x)
        return self.conv_2x1(x)  # (N, C_out, H // 2, W // 2)
