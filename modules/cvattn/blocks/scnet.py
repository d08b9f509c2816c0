"""Self-calibrated convolution (SCNet).

Paper: "Improving Convolutional Networks with Self-Calibrated Convolutions", Jiang-Jiang Liu, Qibin Hou,
Ming-Ming Cheng, Changhu Wang, Jiashi Feng, CVPR 2020,
https://openaccess.thecvf.com/content_CVPR_2020/html/Liu_Improving_Convolutional_Networks_With_Self-Calibrated_Convolutions_CVPR_2020_paper.html.
Official code: https://github.com/MCG-NKU/SCNet (``scnet.py``, ``SCConv`` and ``SCBottleneck``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, get_layer


@register("scnet", kind="block", inputs=(64, 16, 16), in_channels=64, out_channels=64)
class SelfCalibratedConv2d(nn.Module):
    """Self-calibrated convolution: half the channels are convolved under a gate from a down-sampled view.

    The input is split into halves ``X1, X2``. ``X2`` goes through a plain conv, ``Y2 = K1(X2)``. ``X1`` is
    self-calibrated: ``T1 = AvgPool_r(X1)``, ``X1' = Up(K2(T1))`` (nearest, to ``X1``'s size),
    ``Y1' = K3(X1) * sigmoid(X1 + X1')`` and ``Y1 = K4(Y1')``. The output is ``[Y1, Y2]``. Every ``K`` is a
    conv (no bias) followed by BN, as in the official ``SCConv``; the stride is applied by ``K4`` and ``K1``.

    Args:
        in_channels: input channels (even).
        out_channels: output channels (even).
        kernel_size: size of the four convs (paper: 3).
        stride: stride of ``K4`` and ``K1``.
        padding: padding of the convs; ``None`` gives ``dilation * (kernel_size - 1) // 2``.
        dilation: dilation of the convs.
        groups: groups of the convs (the official bottleneck's cardinality).
        bias: conv bias (official: False).
        pooling_r: down-sampling rate ``r`` of the average pooling (official ``pooling_r``: 4).
        norm_layer: normalisation after each conv (BatchNorm2d); ``None`` for none.

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H', W')`` with ``H' = ceil(H / stride)`` for the default padding

    Examples:
        >>> import torch, cvattn
        >>> sc = cvattn.create("scnet", in_channels=64, out_channels=64)
        >>> sc(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        The paper splits the input channels in half; the official ``SCBottleneck`` instead feeds the two
        paths from two separate 1x1 convs, which is the bottleneck's business, so this block follows the
        paper's split. ``K2``, ``K3`` keep ``in_channels / 2`` channels (the gate adds ``X1``), and ``K4`` maps
        to ``out_channels / 2``. The output is ``[Y1, Y2]`` (self-calibrated path first, as the paper's
        figure); the official ``SCBottleneck`` concatenates the ``K1`` path first, which only permutes the
        input channels of the bottleneck's next 1x1 conv.

    Reference:
        Liu, Hou, Cheng, Wang, Feng. Improving Convolutional Networks with Self-Calibrated Convolutions. CVPR 2020.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | None = None,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = False,
        pooling_r: int = 4,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        if in_channels % 2 or out_channels % 2:
            raise ValueError(f"in_channels and out_channels must be even, got {in_channels}, {out_channels}")
        if padding is None:
            padding = dilation * (kernel_size - 1) // 2
        self.in_channels, self.out_channels = in_channels, out_channels
        cin, cout = in_channels // 2, out_channels // 2
        norm = get_layer(norm_layer)

        def conv_bn(i: int, o: int, s: int) -> nn.Sequential:
            conv = nn.Conv2d(i, o, kernel_size, s, padding, dilation, groups, bias=bias)
            return nn.Sequential(conv, norm(o) if norm is not None else nn.Identity())

        self.k1 = conv_bn(cin, cout, stride)
        self.pool = nn.AvgPool2d(pooling_r, pooling_r)
        self.k2 = conv_bn(cin, cin, 1)
        self.k3 = conv_bn(cin, cin, 1)
        self.k4 = conv_bn(cin, cout, stride)
        self.half = cin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        x1, x2 = x[:, : self.half], x[:, self.half :]  # channel halves
        t1 = self.pool(x1)  # (N, C/2, H/r, W/r)
        x1_up = F.interpolate(self.k2(t1), size=x1.shape[2:])  # X1' = Up(K2(T1)): (N, C/2, H, W)
        y1 = self.k4(self.k3(x1) * torch.sigmoid(x1 + x1_up))  # Y1 = K4(K3(X1) * sigmoid(X1 + X1'))
        y2 = self.k1(x2)  # Y2 = K1(X2)
        return torch.cat([y1, y2], 1)
