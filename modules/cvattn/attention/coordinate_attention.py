"""Coordinate Attention.

Paper: "Coordinate Attention for Efficient Mobile Network Design", Qibin Hou, Daquan Zhou, Jiashi Feng,
CVPR 2021, https://arxiv.org/abs/2103.02907. Official code: https://github.com/houqb/CoordAttention
(``coordatt.py``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act, get_layer


@register("coordinate-attention", kind="attention", inputs=(64, 14, 14), channels=64)
class CoordinateAttention(nn.Module):
    """Coordinate attention: channel attention factorised into one gate along H and one along W.

    The input is averaged along W and along H, giving ``z^h`` (``C x H``) and ``z^w`` (``C x W``); both
    are concatenated along the spatial axis and transformed together, ``f = h_swish(BN(F1([z^h, z^w])))``
    with ``F1: C -> mip`` (1x1 conv with bias), split back into ``f^h`` and ``f^w``, and mapped to two
    gates ``g^h = sigmoid(F_h(f^h))`` and ``g^w = sigmoid(F_w(f^w))`` (``mip -> C``, 1x1 convs with
    bias). The output is ``x * g^h * g^w``.

    Args:
        channels: input channels ``C``.
        reduction: reduction ratio; the hidden width is ``mip = max(min_hidden, C // reduction)``
            (official: 32).
        min_hidden: lower bound of the hidden width (official: 8).
        act_layer: activation after the shared transform (hard-swish, as the official ``h_swish``).
        norm_layer: normalisation after the shared transform (BatchNorm2d).
        gate_layer: gate (sigmoid).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> ca = cvattn.create("coordinate-attention", channels=64)
        >>> ca(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The official block also allows ``oup != inp`` in its constructor but multiplies the gates with the
        input, which only works for ``oup == inp``; here the output width is always ``channels``.

    Reference:
        Hou, Zhou, Feng. Coordinate Attention for Efficient Mobile Network Design. CVPR 2021.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 32,
        min_hidden: int = 8,
        act_layer: LayerType = nn.Hardswish,
        norm_layer: LayerType = nn.BatchNorm2d,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.channels = channels
        mip = max(min_hidden, channels // reduction)
        norm = get_layer(norm_layer)
        self.conv1 = nn.Conv2d(channels, mip, 1, bias=True)
        self.bn1 = norm(mip) if norm is not None else nn.Identity()
        self.act = create_act(act_layer, inplace=True)
        self.conv_h = nn.Conv2d(mip, channels, 1, bias=True)
        self.conv_w = nn.Conv2d(mip, channels, 1, bias=True)
        self.gate = create_act(gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        h = x.shape[2]
        z_h = x.mean(3, keepdim=True)  # pool along W: (N, C, H, 1)
        z_w = x.mean(2, keepdim=True).transpose(2, 3)  # pool along H: (N, C, W, 1)
        f = self.act(self.bn1(self.conv1(torch.cat([z_h, z_w], 2))))  # (N, mip, H + W, 1)
        f_h = f[:, :, :h]  # (N, mip, H, 1)
        f_w = f[:, :, h:].transpose(2, 3)  # (N, mip, 1, W)
        g_h = self.gate(self.conv_h(f_h))  # (N, C, H, 1)
        g_w = self.gate(self.conv_w(f_w))  # (N, C, 1, W)
        return x * g_h * g_w
