"""Double attention block.

Paper: "A^2-Nets: Double Attention Networks", Yunpeng Chen, Yannis Kalantidis, Jianshu Li, Shuicheng Yan,
Jiashi Feng, NeurIPS 2018, https://arxiv.org/abs/1810.11579. No official code was released.
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input


@register("a2net", kind="attention", inputs=(64, 14, 14), channels=64)
class DoubleAttention(nn.Module):
    """A^2 block: gather global features with second-order attention pooling, then distribute them to every
    position with a second attention.

    ``A = phi(x)`` (``c_m`` maps), ``B = softmax_{HW}(theta(x))`` (``c_n`` attention maps over positions),
    ``V = softmax_{c_n}(rho(x))`` (per-position attention over the ``c_n`` descriptors). Gather:
    ``G = A B^T`` (``c_m x c_n`` global descriptors); distribute: ``Z_i = G V_i``; output
    ``x + W_z Z`` (1x1 conv back to ``C``). Cost is linear in ``H*W``.

    Args:
        channels: input channels ``C``.
        c_m: width of the gathered features (``C // 4``).
        c_n: number of global descriptors (``C // 4``).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> a2 = cvattn.create("a2net", channels=64)
        >>> a2(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        No official code exists. ``c_m = c_n = C / 4`` is this package's default (the paper tunes them per
        network); the residual connection follows the paper's block.

    Reference:
        Chen, Kalantidis, Li, Yan, Feng. A^2-Nets: Double Attention Networks. NeurIPS 2018.
    """

    def __init__(self, channels: int, c_m: int | None = None, c_n: int | None = None) -> None:
        super().__init__()
        self.channels = channels
        self.c_m, self.c_n = c_m or max(1, channels // 4), c_n or max(1, channels // 4)
        self.phi = nn.Conv2d(channels, self.c_m, 1)
        self.theta = nn.Conv2d(channels, self.c_n, 1)
        self.rho = nn.Conv2d(channels, self.c_n, 1)
        self.w_z = nn.Conv2d(self.c_m, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, h, w = x.size(0), x.shape[2], x.shape[3]
        a = self.phi(x).flatten(2)  # (N, c_m, HW)
        b = torch.softmax(self.theta(x).flatten(2), -1)  # attention maps over positions: (N, c_n, HW)
        v = torch.softmax(self.rho(x).flatten(2), 1)  # attention vectors over descriptors: (N, c_n, HW)
        g = a @ b.transpose(1, 2)  # gather: (N, c_m, c_n)
        z = (g @ v).reshape(n, self.c_m, h, w)  # distribute: (N, c_m, H, W)
        return x + self.w_z(z)
