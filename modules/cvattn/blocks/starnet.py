"""StarNet block: the star operation (element-wise multiplication of two linear branches).

Paper: "Rewrite the Stars", Xu Ma, Xiyang Dai, Yue Bai, Yizhou Wang, Yun Fu, CVPR 2024,
https://arxiv.org/abs/2403.19967. Official code: https://github.com/ma-xu/Rewrite-the-Stars
(``imagenet/starnet.py``, ``Block``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input, create_act


@register("starnet", kind="block", inputs=(32, 14, 14), channels=32)
class StarBlock(nn.Module):
    """StarNet block: depthwise conv + BN, two 1x1 branches multiplied element-wise, 1x1 + BN, depthwise conv.

    The "star operation" ``act(W_1 x) * (W_2 x)`` multiplies two linear projections of the same input.
    Without widening the network it behaves like a polynomial kernel: each output is a weighted sum of
    the pairwise products ``x_i x_j``, a feature space of about ``(d / sqrt(2))^2`` implicit dimensions,
    and stacking blocks raises the degree exponentially. The block computes
    ``x + DW_2(BN(W_g (ReLU6(W_1 z) * W_2 z)))`` with ``z = BN(DW_1(x))``, ``W_1, W_2`` 1x1 convs from ``C``
    to ``mlp_ratio C`` channels, ``W_g`` the 1x1 conv back to ``C`` and ``DW_1, DW_2`` depthwise
    ``K x K`` convs. Every conv has a bias, as in the official code.

    Args:
        channels: input and output channels ``C``.
        mlp_ratio: width of the two branches relative to ``C`` (official ``Block`` default 3; StarNet uses 4,
            StarNet-S050/S150 3).
        kernel_size: kernel of the two depthwise convs (official: 7).
        act_layer: activation of the first branch (official: ReLU6).

    Shape:
        - Input: ``(N, channels, H, W)``
        - Output: ``(N, channels, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> block = cvattn.create("starnet", channels=32, mlp_ratio=4)
        >>> block(torch.randn(2, 32, 14, 14)).shape
        torch.Size([2, 32, 14, 14])

    Deviations:
        No drop path (stochastic depth of the official network, off by default).

    Reference:
        Ma et al. Rewrite the Stars. CVPR 2024.
    """

    def __init__(
        self, channels: int, mlp_ratio: int = 3, kernel_size: int = 7, act_layer: LayerType = nn.ReLU6
    ) -> None:
        super().__init__()
        hidden = mlp_ratio * channels
        padding = (kernel_size - 1) // 2
        self.channels = channels
        self.dwconv = ConvNormAct(channels, channels, kernel_size, groups=channels, bias=True, act_layer=None)
        self.f1 = nn.Conv2d(channels, hidden, 1)
        self.f2 = nn.Conv2d(channels, hidden, 1)
        self.g = ConvNormAct(hidden, channels, 1, bias=True, act_layer=None)
        self.dwconv2 = nn.Conv2d(channels, channels, kernel_size, 1, padding, groups=channels)
        self.act = create_act(act_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        z = self.dwconv(x)
        star = self.act(self.f1(z)) * self.f2(z)  # the star operation
        return x + self.dwconv2(self.g(star))
