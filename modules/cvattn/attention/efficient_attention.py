"""Efficient attention (linear complexity).

Paper: "Efficient Attention: Attention with Linear Complexities", Zhuoran Shen, Mingyuan Zhang, Haiyu Zhao,
Shuai Yi, Hongsheng Li, WACV 2021, https://arxiv.org/abs/1812.01243.
Official code: https://github.com/cmsflash/efficient-attention (``efficient_attention.py``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input


@register("efficient-attention", kind="attention", inputs=(64, 14, 14), channels=64)
class EfficientAttention(nn.Module):
    """Efficient attention: ``rho_q(Q) (rho_k(K)^T V)`` instead of ``softmax(Q K^T) V``.

    Keys are normalised with a softmax over positions and queries with a softmax over their channels; the
    keys first aggregate the values into ``d_k x d_v`` global context vectors per head, which each query
    then mixes. Memory and computation grow linearly with ``H*W`` (no ``HW x HW`` matrix). Output:
    ``x + W_o E`` (a residual reprojection).

    Args:
        channels: input channels ``C``.
        key_channels: total key/query width (``C // 2``).
        value_channels: total value width (``C // 2``).
        heads: number of heads (1); key and value widths are split evenly across them.

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> ea = cvattn.create("efficient-attention", channels=64, heads=2)
        >>> ea(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The official module takes the key/value widths and head count as required arguments; the defaults
        here (``C/2``, ``C/2``, 1 head) are this package's choice.

    Reference:
        Shen, Zhang, Zhao, Yi, Li. Efficient Attention: Attention with Linear Complexities. WACV 2021.
    """

    def __init__(
        self,
        channels: int,
        key_channels: int | None = None,
        value_channels: int | None = None,
        heads: int = 1,
    ) -> None:
        super().__init__()
        self.channels, self.heads = channels, heads
        dk, dv = key_channels or max(heads, channels // 2), value_channels or max(heads, channels // 2)
        if dk % heads or dv % heads:
            raise ValueError(
                f"key_channels ({dk}) and value_channels ({dv}) must be divisible by heads ({heads})"
            )
        self.keys = nn.Conv2d(channels, dk, 1)
        self.queries = nn.Conv2d(channels, dk, 1)
        self.values = nn.Conv2d(channels, dv, 1)
        self.reprojection = nn.Conv2d(dv, channels, 1)
        self.dv = dv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, h, w = x.size(0), x.shape[2], x.shape[3]
        k = self.keys(x).reshape(n, self.heads, -1, h * w).softmax(-1)  # over positions: (N, heads, dk/h, HW)
        q = (
            self.queries(x).reshape(n, self.heads, -1, h * w).softmax(2)
        )  # over channels: (N, heads, dk/h, HW)
        v = self.values(x).reshape(n, self.heads, -1, h * w)  # (N, heads, dv/h, HW)
        context = k @ v.transpose(2, 3)  # global context vectors: (N, heads, dk/h, dv/h)
        e = (context.transpose(2, 3) @ q).reshape(n, self.dv, h, w)  # (N, dv, H, W)
        return x + self.reprojection(e)
