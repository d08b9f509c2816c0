"""Selective Kernel convolution.

Paper: "Selective Kernel Networks", Xiang Li, Wenhai Wang, Xiaolin Hu, Jian Yang, CVPR 2019,
https://arxiv.org/abs/1903.06586. Official code (Caffe prototxt): https://github.com/implus/SKNet.
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import BatchNormAnyBatch2d, ConvNormAct, LayerType, check_input, create_act


@register("sk", kind="attention", inputs=(64, 14, 14), channels=64)
class SelectiveKernel(nn.Module):
    """SK unit: split into branches with different receptive fields, fuse, and select with a softmax
    attention across branches, per channel.

    Split: ``U_m = ReLU(BN(conv_m(x)))``, with ``M`` grouped 3x3 convolutions of dilation ``1, 2, ...``
    (the paper replaces the 5x5 kernel by a dilated 3x3). Fuse: ``s = mean_{H,W}(sum_m U_m)``,
    ``z = ReLU(BN(W s))`` with ``W: C -> d``, ``d = max(C / r, L)``. Select: ``a_m = softmax_m(A_m z)`` per
    channel and ``V = sum_m a_m * U_m``.

    Args:
        channels: input and output channels ``C``.
        branches: number of branches ``M`` (2).
        groups: groups ``G`` of each branch's convolution (32, cardinality of SKNet-50); lowered to a
            divisor of ``C`` when ``C`` is not divisible.
        reduction: ``r`` of ``d = max(C / r, L)`` (16).
        min_dim: ``L`` (32).
        act_layer: activation (ReLU).
        norm_layer: normalisation (BatchNorm2d).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> sk = cvattn.create("sk", channels=64)
        >>> sk(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The fuse layer is a 1x1 convolution with BatchNorm and ReLU on the pooled vector, as the paper's
        Eq. 2 (``delta(B(W s))``); the per-branch select layers are 1x1 convolutions without bias.

    Reference:
        Li, Wang, Hu, Yang. Selective Kernel Networks. CVPR 2019.
    """

    def __init__(
        self,
        channels: int,
        branches: int = 2,
        groups: int = 32,
        reduction: int = 16,
        min_dim: int = 32,
        act_layer: LayerType = nn.ReLU,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        self.channels, self.branches = channels, branches
        while channels % groups:
            groups //= 2
        d = max(channels // reduction, min_dim)
        self.convs = nn.ModuleList(
            ConvNormAct(
                channels,
                channels,
                3,
                dilation=m + 1,
                groups=groups,
                norm_layer=norm_layer,
                act_layer=act_layer,
            )
            for m in range(branches)
        )
        fc_norm = (
            BatchNormAnyBatch2d if norm_layer is nn.BatchNorm2d else norm_layer
        )  # BN on one pooled sample
        self.fc = nn.Sequential(
            nn.Conv2d(channels, d, 1, bias=False), fc_norm(d), create_act(act_layer, inplace=True)
        )
        self.select = nn.Conv2d(d, channels * branches, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        u = torch.stack([conv(x) for conv in self.convs], 1)  # split: (N, M, C, H, W)
        s = u.sum(1).mean((2, 3), keepdim=True)  # fuse: (N, C, 1, 1)
        z = self.fc(s)  # (N, d, 1, 1)
        a = (
            self.select(z).reshape(x.size(0), self.branches, self.channels, 1, 1).softmax(1)
        )  # select: (N, M, C, 1, 1)
        return (a * u).sum(1)
