"""Context anchor attention (CAA) of PKINet.

Paper: "Poly Kernel Inception Network for Remote Sensing Detection", Xinhao Cai, Qiuxia Lai, Yuwei Wang,
Wenguan Wang, Zeren Sun, Yazhou Yao, CVPR 2024,
https://openaccess.thecvf.com/content/CVPR2024/html/Cai_Poly_Kernel_Inception_Network_for_Remote_Sensing_Detection_CVPR_2024_paper.html.
Official code: https://github.com/NUST-Machine-Intelligence-Laboratory/PKINet
(``mmrotate/models/backbones/pkinet.py``, ``CAA``).
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input, match_memory_format

_BN = partial(nn.BatchNorm2d, eps=1e-3, momentum=0.03)  # the official norm_cfg: BN, momentum 0.03, eps 0.001


@register("pkinet-caa", kind="attention", inputs=(64, 14, 14), channels=64)
class ContextAnchorAttention(nn.Module):
    """PKINet's CAA: a sigmoid gate from average pooling and a pair of depthwise strip convolutions.

    ``P = AvgPool_{7x7}(X)`` (stride 1, padding 3), ``F = Conv_{1x1}(P)``, then a depthwise ``1 x k_h`` and a
    depthwise ``k_v x 1`` convolution give a cheap ``k_v x k_h`` context that reaches far along rows and
    columns (long, thin objects), ``A = sigmoid(Conv_{1x1}(DW_{k_v x 1}(DW_{1 x k_h}(F))))``; the output is
    ``X * A``. The 1x1 convolutions are conv-norm-activation blocks (bias only without a norm); PKINet builds
    them without norm and activation and grows ``k = 11 + 2l`` with the stage ``l``. Memory grows with
    ``H*W`` (a few ``C``-channel maps).

    Args:
        channels: input and output channels ``C``.
        h_kernel_size: length ``k_h`` of the horizontal strip kernel (official default 11).
        v_kernel_size: length ``k_v`` of the vertical strip kernel (official default 11).
        norm_layer: norm after the two 1x1 convolutions (official default BN with momentum 0.03, eps 1e-3;
            PKINet passes ``None``).
        act_layer: activation after the two 1x1 convolutions (official default SiLU; PKINet passes ``None``).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> caa = cvattn.create("pkinet-caa", channels=64)
        >>> caa(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The official ``CAA`` returns the attention factor ``A`` only, which PKINet multiplies with the output of
        its poly-kernel inception module (computed from the same input); this module returns ``X * A``.

    Reference:
        Cai, Lai, Wang, Wang, Sun, Yao. Poly Kernel Inception Network for Remote Sensing Detection. CVPR 2024.
    """

    def __init__(
        self,
        channels: int,
        h_kernel_size: int = 11,
        v_kernel_size: int = 11,
        norm_layer: LayerType = _BN,
        act_layer: LayerType = nn.SiLU,
    ) -> None:
        super().__init__()
        for name, k in (("h_kernel_size", h_kernel_size), ("v_kernel_size", v_kernel_size)):
            if k < 1 or k % 2 == 0:
                raise ValueError(f"{name} must be odd and positive, got {k}")
        self.channels = channels
        bias = norm_layer is None
        self.avg_pool = nn.AvgPool2d(7, 1, 3)
        self.conv1 = ConvNormAct(channels, channels, 1, bias=bias, norm_layer=norm_layer, act_layer=act_layer)
        self.h_conv = ConvNormAct(
            channels,
            channels,
            (1, h_kernel_size),
            groups=channels,
            bias=True,
            norm_layer=None,
            act_layer=None,
        )
        self.v_conv = ConvNormAct(
            channels,
            channels,
            (v_kernel_size, 1),
            groups=channels,
            bias=True,
            norm_layer=None,
            act_layer=None,
        )
        self.conv2 = ConvNormAct(channels, channels, 1, bias=bias, norm_layer=norm_layer, act_layer=act_layer)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        f = self.conv1(self.avg_pool(x))
        attn = self.gate(self.conv2(self.v_conv(self.h_conv(f))))  # A: (N, C, H, W)
        return match_memory_format(x * attn, x)
