"""Squeeze-and-Attention (SA) module.

Paper: "Squeeze-and-Attention Networks for Semantic Segmentation", Zilong Zhong, Zhong Qiu Lin, Rene Bidart,
Xiaodan Hu, Ibrahim Ben Daya, Zhifeng Li, Wei-Shi Zheng, Jonathan Li, Alexander Wong, CVPR 2020,
https://arxiv.org/abs/1909.03402. The authors released no official code; this follows the paper's equations.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input, create_act


def _conv_stack(in_channels, out_channels, num_convs, kernel_size, norm_layer, act_layer) -> nn.Sequential:
    return nn.Sequential(
        *[
            ConvNormAct(
                in_channels if i == 0 else out_channels,
                out_channels,
                kernel_size,
                norm_layer=norm_layer,
                act_layer=act_layer,
            )
            for i in range(num_convs)
        ]
    )


@register("squeeze-attention", kind="block", inputs=(64, 16, 16), in_channels=64, out_channels=64)
class SqueezeAttention(nn.Module):
    """SA module: a convolution whose output is gated and shifted by an attention computed on a pooled view.

    The main branch is a plain convolution, ``X_res = F_res(X_in)``. The attention branch "squeezes" the
    input by average pooling, convolves it, and up-samples the sigmoid of the result back,
    ``X_attn = Up(sigmoid(F_attn(APool(X_in))))``; both ``F`` are stacks of conv-BN-ReLU. The output is
    ``X_out = X_attn * X_res + X_attn``, pixel-group attention applied on the pixel-wise prediction.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        num_convs: conv-BN-ReLU layers in each branch (2).
        kernel_size: conv size (3).
        pool_size: kernel and stride of the average pooling (2).
        norm_layer: normalisation (BatchNorm2d).
        act_layer: activation (ReLU).
        gate_layer: gate of the attention branch (sigmoid).

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> sa = cvattn.create("squeeze-attention", in_channels=64, out_channels=64)
        >>> sa(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        Without official code, the branch depth (two conv-BN-ReLU of size 3), the 2x2 pooling and the
        nearest up-sampling follow the widely used public re-implementation of the paper's Fig. 3; the
        up-sampling goes to the input's exact size, so odd sizes work. Convs have no bias (BN follows).

    Reference:
        Zhong et al. Squeeze-and-Attention Networks for Semantic Segmentation. CVPR 2020.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_convs: int = 2,
        kernel_size: int = 3,
        pool_size: int = 2,
        norm_layer: LayerType = nn.BatchNorm2d,
        act_layer: LayerType = nn.ReLU,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.conv_res = _conv_stack(in_channels, out_channels, num_convs, kernel_size, norm_layer, act_layer)
        self.pool = nn.AvgPool2d(pool_size, pool_size)
        self.conv_attn = _conv_stack(in_channels, out_channels, num_convs, kernel_size, norm_layer, act_layer)
        self.gate = create_act(gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        x_res = self.conv_res(x)  # (N, C_out, H, W)
        a = self.gate(self.conv_attn(self.pool(x)))  # (N, C_out, H/p, W/p)
        x_attn = F.interpolate(a, size=x_res.shape[2:])  # Up(.): (N, C_out, H, W)
        return x_attn * x_res + x_attn
