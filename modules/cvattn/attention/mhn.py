"""High-order attention (HOA) module of the Mixed High-Order Attention Network (MHN).

Paper: "Mixed High-Order Attention Network for Person Re-Identification", Binghui Chen, Weihong Deng, Jiani Hu,
ICCV 2019, https://arxiv.org/abs/1908.05819.
Official code: https://github.com/chenbinghui1/MHN (``model.py``: ``HighDivModule``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input


@register("mhn", kind="attention", inputs=(64, 16, 8), channels=64)
class HighOrderAttention(nn.Module):
    """MHN's high-order attention (HOA): a full-size attention map built from products of up to R projections.

    For every order ``r = 1 .. R`` the input is projected by ``r`` bias-free 1x1 convs to ``hidden`` channels
    (each order has its own), the projections are multiplied element-wise,
    ``z_r = ReLU(prod_{k=1..r} W_k^r x)``, so that ``z_r`` holds ``r``-th order interactions of the channels
    at each position, and a bias-free 1x1 conv with a sigmoid maps it back to ``C`` channels. The attention
    map is the mean over the orders, ``A = (1/R) sum_r sigmoid(V^r z_r)``, and the output is ``x * A`` (one
    weight per channel and position). MHN runs HOA modules of orders 1 to R side by side on the same feature
    map (the "mixed" network, with an adversarial constraint keeping them diverse); this class is one module.
    All first-stage projections run as one convolution.

    Args:
        channels: input channels ``C``.
        order: the highest order ``R`` (official default 1; MHN-6 uses modules of orders 1 to 6).
        hidden: width of the projections (official ``C // 8 * 2``).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> hoa = cvattn.create("mhn", channels=64, order=3)
        >>> hoa(torch.randn(2, 64, 16, 8)).shape
        torch.Size([2, 64, 16, 8])

    Deviations:
        None from the official ``HighDivModule`` (same parameters and initialisation by PyTorch's defaults);
        the convolutions are stored one by one as there; the first-stage ones are concatenated into one
        convolution in the forward pass.

    Reference:
        Chen et al. Mixed High-Order Attention Network for Person Re-Identification. ICCV 2019.
    """

    def __init__(self, channels: int, order: int = 1, hidden: int | None = None) -> None:
        super().__init__()
        if order < 1:
            raise ValueError(f"order must be at least 1, got {order}")
        self.channels = channels
        self.order = order
        self.hidden = hidden if hidden is not None else channels // 8 * 2
        # W_k^r for r = 1..R, k = 1..r, in that order: R (R + 1) / 2 projections C -> hidden
        self.proj = nn.ModuleList(
            nn.Conv2d(channels, self.hidden, 1, bias=False) for _ in range(order * (order + 1) // 2)
        )
        # V^r for r = 1..R: hidden -> C, each followed by a sigmoid
        self.expand = nn.ModuleList(nn.Conv2d(self.hidden, channels, 1, bias=False) for _ in range(order))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        y = F.conv2d(x, torch.cat([p.weight for p in self.proj])).split(self.hidden, 1)  # W_k^r x
        a, k = None, 0
        for r in range(1, self.order + 1):
            z = y[k]
            for i in range(1, r):
                z = z * y[k + i]
            k += r
            z = F.relu(z)  # z_r = ReLU(prod_k W_k^r x): (N, hidden, H, W)
            a_r = torch.sigmoid(self.expand[r - 1](z))  # sigmoid(V^r z_r): (N, C, H, W)
            a = a_r if a is None else a + a_r
        return x * a / self.order
