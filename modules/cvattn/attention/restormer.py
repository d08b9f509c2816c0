"""Restormer's multi-Dconv head transposed attention (MDTA) and gated-Dconv feed-forward network (GDFN).

Paper: "Restormer: Efficient Transformer for High-Resolution Image Restoration", Syed Waqas Zamir, Aditya Arora,
Salman Khan, Munawar Hayat, Fahad Shahbaz Khan, Ming-Hsuan Yang, CVPR 2022, https://arxiv.org/abs/2111.09881.
Official code: https://github.com/swz30/Restormer (``basicsr/models/archs/restormer_arch.py``: ``Attention``
and ``FeedForward``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format


@register("restormer-mdta", kind="attention", inputs=(48, 14, 14), channels=48, num_heads=1)
class RestormerMDTA(nn.Module):
    """Restormer MDTA: self-attention across channels, with depth-wise convolutions in the projections.

    Queries, keys and values come from a 1x1 convolution followed by a 3x3 depth-wise convolution (local
    context); they are split into ``h`` heads of ``d = C / h`` channels. Per head, each channel of ``Q`` and
    ``K`` is L2-normalised over the ``H*W`` positions and the ``d x d`` map ``A = softmax(alpha * Q K^T)``
    (``alpha`` a learned per-head temperature) mixes the value channels, ``A V``; a 1x1 convolution projects
    the result. The attention map is ``d x d`` per head, so the cost grows linearly with ``H*W``.

    Args:
        channels: channels ``C``.
        num_heads: heads ``h`` (Restormer: 1, 2, 4, 8 from the first to the fourth level).
        bias: bias in the three convolutions (Restormer: False).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> mdta = cvattn.create("restormer-mdta", channels=96, num_heads=2)
        >>> mdta(torch.randn(2, 96, 16, 20)).shape
        torch.Size([2, 96, 16, 20])

    Deviations:
        None in the computation. As in the official ``Attention``, the layer norm and the residual
        connection of the transformer block are not part of the module.

    Reference:
        Zamir et al. Restormer: Efficient Transformer for High-Resolution Image Restoration. CVPR 2022.
    """

    def __init__(self, channels: int, num_heads: int = 1, bias: bool = False) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        self.channels, self.num_heads = channels, num_heads
        self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))  # alpha, one per head
        self.qkv = nn.Conv2d(channels, 3 * channels, 1, bias=bias)
        self.qkv_dwconv = nn.Conv2d(3 * channels, 3 * channels, 3, padding=1, groups=3 * channels, bias=bias)
        self.project_out = nn.Conv2d(channels, channels, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, _, height, width = x.shape
        qkv = self.qkv_dwconv(self.qkv(x))  # (N, 3C, H, W)
        q, k, v = qkv.reshape(n, 3, self.num_heads, -1, height * width).unbind(1)  # 3 x (N, h, d, HW)
        q = F.normalize(q, dim=-1)  # each channel L2-normalised over the positions
        k = F.normalize(k, dim=-1)
        # softmax(alpha * Q K^T) V over the d channels of a head; alpha folded into Q, so the SDPA scale is 1
        y = F.scaled_dot_product_attention(q * self.temperature, k, v, scale=1.0)  # (N, h, d, HW)
        y = self.project_out(y.reshape(n, self.channels, height, width))
        return match_memory_format(y, x)


@register("restormer-gdfn", kind="block", inputs=(48, 14, 14), channels=48)
class RestormerGDFN(nn.Module):
    """Restormer GDFN: a feed-forward network gated by a GELU branch, with depth-wise convolutions.

    A 1x1 convolution expands ``C`` to ``2 * C'`` channels (``C' = int(gamma * C)``), a 3x3 depth-wise
    convolution adds local context, and the two halves ``X1``, ``X2`` gate each other,
    ``GELU(X1) * X2``; a 1x1 convolution projects back to ``C``. The gate controls which features pass on.

    Args:
        channels: channels ``C``.
        expansion_factor: expansion ``gamma`` of the hidden width (Restormer: 2.66).
        bias: bias in the three convolutions (Restormer: False).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> gdfn = cvattn.create("restormer-gdfn", channels=48)
        >>> gdfn.hidden_channels
        127
        >>> gdfn(torch.randn(2, 48, 16, 20)).shape
        torch.Size([2, 48, 16, 20])

    Deviations:
        None. As in the official ``FeedForward``, the layer norm and the residual connection of the
        transformer block are not part of the module.

    Reference:
        Zamir et al. Restormer: Efficient Transformer for High-Resolution Image Restoration. CVPR 2022.
    """

    def __init__(self, channels: int, expansion_factor: float = 2.66, bias: bool = False) -> None:
        super().__init__()
        self.channels = channels
        self.hidden_channels = hidden = int(channels * expansion_factor)
        self.project_in = nn.Conv2d(channels, 2 * hidden, 1, bias=bias)
        self.dwconv = nn.Conv2d(2 * hidden, 2 * hidden, 3, padding=1, groups=2 * hidden, bias=bias)
        self.project_out = nn.Conv2d(hidden, channels, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        x1, x2 = self.dwconv(self.project_in(x)).chunk(2, dim=1)  # 2 x (N, C', H, W)
        return self.project_out(F.gelu(x1) * x2)
