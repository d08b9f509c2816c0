"""Receptive Field Block (RFBNet) and its smaller variant RFB-s.

Paper: "Receptive Field Block Net for Accurate and Fast Object Detection", Songtao Liu, Di Huang, Yunhong
Wang, ECCV 2018, https://arxiv.org/abs/1711.07767. Official code: https://github.com/ruinmessi/RFBNet
(``models/RFB_Net_vgg.py``: ``BasicRFB`` is RFB, ``BasicRFB_a`` is RFB-s).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input, create_act


def rfb_batch_norm(channels: int) -> nn.BatchNorm2d:
    """The official ``BasicConv``'s batch norm: ``eps=1e-5``, ``momentum=0.01``."""
    return nn.BatchNorm2d(channels, eps=1e-5, momentum=0.01)


class _RFBBase(nn.Module):
    """Shared constructor pieces and forward: branches, 1x1 fusion, scaled residual shortcut, ReLU."""

    def __init__(self, in_channels, out_channels, stride, scale, norm_layer, act_layer) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.scale = scale
        self._norm, self._act = norm_layer, act_layer
        self.shortcut = self._conv(in_channels, out_channels, 1, stride=stride, relu=False)
        self.act = create_act(act_layer)

    def _conv(self, cin, cout, k, stride=1, padding=0, dilation=1, relu=True) -> ConvNormAct:
        """The official ``BasicConv``: conv (no bias) + BN + optional ReLU."""
        return ConvNormAct(
            cin,
            cout,
            k,
            stride,
            padding,
            dilation,
            norm_layer=self._norm,
            act_layer=self._act if relu else None,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        branches = [branch(x) for branch in self.branches]  # multi-branch atrous convs
        y = self.conv_linear(torch.cat(branches, dim=1))  # fuse the branches by 1x1 conv
        return self.act(y * self.scale + self.shortcut(x))  # scaled residual, then ReLU


@register("rfbnet", kind="block", inputs=(64, 16, 16), in_channels=64, out_channels=64)
class ReceptiveFieldBlock(_RFBBase):
    """Receptive Field Block: branches of growing kernel size, each ending in an atrous conv of growing rate.

    Inspired by population receptive fields in the human visual cortex, where eccentricity grows with
    receptive-field size, RFB pairs each kernel size with a dilation: three branches (``C' = C / 8``)
    ``1x1 (2C') -> 3x3 rate v``, ``1x1 (C') -> 3x3 (2C') -> 3x3 rate v+1`` and
    ``1x1 (C') -> 3x3 (3C'/2) -> 3x3 (2C') -> 3x3 rate 2v+1``, each conv with BN (ReLU except after the
    atrous conv). The branches are concatenated, fused by a 1x1 conv + BN, scaled and added to a 1x1
    conv + BN shortcut, then ReLU: ``y = ReLU(scale * conv1x1([b_0, b_1, b_2]) + shortcut(x))``.

    Args:
        in_channels: input channels ``C`` (branch width ``C' = C // 8``).
        out_channels: output channels.
        stride: stride, applied where the official code applies it (first conv of branch 0, the
            non-atrous 3x3 of branches 1 and 2, and the shortcut).
        scale: factor of the branch sum before the residual addition (official default 0.1; the
            official RFBNet-300/512 instantiate it with 1.0).
        visual: base dilation ``v``; the branches' atrous rates are ``v``, ``v + 1``, ``2v + 1``
            (official default 1; RFBNet uses 2 after ``fc7``, i.e. rates 2, 3, 5).
        norm_layer: normalisation after every conv (batch norm with the official ``momentum=0.01``).
        act_layer: activation (ReLU).

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H', W')`` with ``H' = (H - 1) // stride + 1``

    Examples:
        >>> import torch, cvattn
        >>> rfb = cvattn.create("rfbnet", in_channels=64, out_channels=64)
        >>> rfb(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        The paper's figure shows rates 1, 3, 5 with 1x1, 3x3 and 5x5 kernels; the official ``BasicRFB``,
        followed here, uses rates ``v, v + 1, 2v + 1`` and builds the 5x5 from two 3x3 convs.

    Reference:
        Liu, Huang, Wang. Receptive Field Block Net for Accurate and Fast Object Detection. ECCV 2018.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        scale: float = 0.1,
        visual: int = 1,
        norm_layer: LayerType = rfb_batch_norm,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__(in_channels, out_channels, stride, scale, norm_layer, act_layer)
        c, v = in_channels // 8, visual
        conv = self._conv
        self.branches = nn.ModuleList(
            [
                nn.Sequential(
                    conv(in_channels, 2 * c, 1, stride=stride),
                    conv(2 * c, 2 * c, 3, padding=v, dilation=v, relu=False),
                ),
                nn.Sequential(
                    conv(in_channels, c, 1),
                    conv(c, 2 * c, 3, stride=stride, padding=1),
                    conv(2 * c, 2 * c, 3, padding=v + 1, dilation=v + 1, relu=False),
                ),
                nn.Sequential(
                    conv(in_channels, c, 1),
                    conv(c, c // 2 * 3, 3, padding=1),
                    conv(c // 2 * 3, 2 * c, 3, stride=stride, padding=1),
                    conv(2 * c, 2 * c, 3, padding=2 * v + 1, dilation=2 * v + 1, relu=False),
                ),
            ]
        )
        self.conv_linear = conv(6 * c, out_channels, 1, relu=False)


@register("rfbnet-s", kind="block", inputs=(64, 16, 16), in_channels=64, out_channels=64)
class ReceptiveFieldBlockS(_RFBBase):
    """RFB-s: the smaller RFB with four branches of 1x3/3x1 kernels, for shallow, high-resolution features.

    Mimics the smaller receptive fields of shallow human retinotopic maps. With ``C' = C / 4``, the
    branches are ``1x1 -> 3x3``, ``1x1 -> 3x1 -> 3x3 rate 3``, ``1x1 -> 1x3 -> 3x3 rate 3`` and
    ``1x1 (C'/2) -> 1x3 (3C'/4) -> 3x1 -> 3x3 rate 5`` (every branch ends with ``C'`` channels; BN after
    every conv, ReLU except after each branch's last conv); as in RFB, the concatenation is fused by a
    1x1 conv + BN, scaled, added to a 1x1 conv + BN shortcut and passed through ReLU.

    Args:
        in_channels: input channels ``C`` (branch width ``C' = C // 4``).
        out_channels: output channels.
        stride: stride (see Deviations).
        scale: factor of the branch sum before the residual addition (official default 0.1; RFBNet uses
            1.0 on ``conv4_3``).
        norm_layer: normalisation after every conv (batch norm with the official ``momentum=0.01``).
        act_layer: activation (ReLU).

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H', W')`` with ``H' = (H - 1) // stride + 1``

    Examples:
        >>> import torch, cvattn
        >>> rfb_s = cvattn.create("rfbnet-s", in_channels=64, out_channels=64)
        >>> rfb_s(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        The official ``BasicRFB_a`` strides only branches 2, 3 and the shortcut, so it fails for
        ``stride > 1``; here branch 0's 3x3 and branch 1's 3x1 conv are strided too (no change at the
        stride 1 that RFBNet uses).

    Reference:
        Liu, Huang, Wang. Receptive Field Block Net for Accurate and Fast Object Detection. ECCV 2018.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        scale: float = 0.1,
        norm_layer: LayerType = rfb_batch_norm,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__(in_channels, out_channels, stride, scale, norm_layer, act_layer)
        c = in_channels // 4
        conv = self._conv
        self.branches = nn.ModuleList(
            [
                nn.Sequential(
                    conv(in_channels, c, 1),
                    conv(c, c, 3, stride=stride, padding=1, relu=False),
                ),
                nn.Sequential(
                    conv(in_channels, c, 1),
                    conv(c, c, (3, 1), stride=stride, padding=(1, 0)),
                    conv(c, c, 3, padding=3, dilation=3, relu=False),
                ),
                nn.Sequential(
                    conv(in_channels, c, 1),
                    conv(c, c, (1, 3), stride=stride, padding=(0, 1)),
                    conv(c, c, 3, padding=3, dilation=3, relu=False),
                ),
                nn.Sequential(
                    conv(in_channels, c // 2, 1),
                    conv(c // 2, c // 4 * 3, (1, 3), padding=(0, 1)),
                    conv(c // 4 * 3, c, (3, 1), stride=stride, padding=(1, 0)),
                    conv(c, c, 3, padding=5, dilation=5, relu=False),
                ),
            ]
        )
        self.conv_linear = conv(4 * c, out_channels, 1, relu=False)
