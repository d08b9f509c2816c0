"""Recursive gated convolution (gnConv) of HorNet.

Paper: "HorNet: Efficient High-Order Spatial Interactions with Recursive Gated Convolutions", Yongming Rao,
Wenliang Zhao, Yansong Tang, Jie Zhou, Ser-Nam Lim, Jiwen Lu, NeurIPS 2022, https://arxiv.org/abs/2207.14284.
Official code: https://github.com/raoyongming/HorNet (``hornet.py``, ``gnconv``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input


@register("hornet", kind="attention", inputs=(64, 14, 14), channels=64, order=5)
class GnConv(nn.Module):
    """gnConv: high-order spatial interactions by ``n`` recursive gated products with depthwise features.

    A 1x1 projection ``phi_in`` gives ``p_0`` (``C / 2^(n-1)`` channels) and ``n`` gate maps
    ``q_0 .. q_(n-1)`` with ``C_k = C / 2^(n-1-k)`` channels, all taken through one 7x7 depthwise
    convolution ``f`` (with bias) and multiplied by ``alpha``. Then ``p_1 = f(q_0) * p_0`` and, recursively,
    ``p_(k+1) = f(q_k) * g_k(p_k)`` where ``g_k`` is a 1x1 convolution raising ``C_(k-1)`` to ``C_k``
    channels; the output is ``phi_out(p_n)``. Each order doubles the channels and multiplies one more
    spatially mixed gate, giving ``n``-th order interactions at roughly the cost of a convolution.
    Memory grows linearly with ``H*W``.

    Args:
        channels: channels ``C`` in and out (divisible by ``2^(order - 1)``).
        order: interaction order ``n`` (official default 5; HorNet stages use 2, 3, 4, 5).
        scale: ``alpha``, multiplier of the depthwise features (official default 1.0; the HorNet models
            pass 1/3).
        kernel_size: depthwise kernel size (official: 7).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> gn = cvattn.create("hornet", channels=64, order=5)
        >>> gn(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Only the depthwise-convolution form ``f``; the Global Filter form (``gflayer=GlobalLocalFilter``,
        used in HorNet-GF's last stages) is not included. The official constructor's message print is
        left out.

    Reference:
        Rao, Zhao, Tang, Zhou, Lim, Lu. HorNet: Efficient High-Order Spatial Interactions with Recursive
        Gated Convolutions. NeurIPS 2022.
    """

    def __init__(self, channels: int, order: int = 5, scale: float = 1.0, kernel_size: int = 7) -> None:
        super().__init__()
        if order < 1 or channels % 2 ** (order - 1):
            raise ValueError(f"channels ({channels}) must be divisible by 2^(order - 1) (order={order})")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd size, got {kernel_size}")
        self.channels, self.order, self.scale = channels, order, scale
        self.dims = [channels // 2**i for i in range(order)][::-1]  # C_0 < C_1 < ... < C_(n-1) = C
        self.proj_in = nn.Conv2d(channels, 2 * channels, 1)
        self.dwconv = nn.Conv2d(
            sum(self.dims), sum(self.dims), kernel_size, padding=kernel_size // 2, groups=sum(self.dims)
        )
        self.proj_out = nn.Conv2d(channels, channels, 1)
        self.pws = nn.ModuleList(nn.Conv2d(self.dims[i], self.dims[i + 1], 1) for i in range(order - 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        p, q = torch.split(self.proj_in(x), (self.dims[0], sum(self.dims)), dim=1)  # p_0 and the gates
        gates = torch.split(self.dwconv(q) * self.scale, self.dims, dim=1)  # f(q_k), k = 0 .. n-1
        p = p * gates[0]  # p_1
        for k in range(1, self.order):  # constructor-time count: fx unrolls it
            p = self.pws[k - 1](p) * gates[k]  # p_(k+1) = f(q_k) * g_k(p_k)
        return self.proj_out(p)
