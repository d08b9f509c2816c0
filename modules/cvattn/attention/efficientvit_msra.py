"""Cascaded group attention (CGA) of EfficientViT (Microsoft), in local windows.

Paper: "EfficientViT: Memory Efficient Vision Transformer with Cascaded Group Attention", Xinyu Liu, Houwen
Peng, Ningxin Zheng, Yuqing Yang, Han Hu, Yixuan Yuan, CVPR 2023, https://arxiv.org/abs/2305.07027. Official code:
https://github.com/microsoft/Cream/tree/main/EfficientViT (``classification/model/efficientvit.py``,
``LocalWindowAttention`` around ``CascadedGroupAttention``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, check_input, match_memory_format
from ..tokens import from_channels_last, from_tokens, to_channels_last, to_tokens


def _offset_index(window: int) -> torch.Tensor:
    """``(M^2, M^2)`` index of the bias table: ``|dy| * M + |dx|`` for every pair of positions in a window."""
    coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
    delta = (coords[:, :, None] - coords[:, None, :]).abs()  # (2, M^2, M^2)
    return delta[0] * window + delta[1]


@register(
    "efficientvit-msra",
    kind="attention",
    inputs=(64, 14, 14),
    channels=64,
    key_dim=16,
    num_heads=4,
    window_size=7,
)
class CascadedGroupAttention(nn.Module):
    """EfficientViT (MSRA) cascaded group attention: each head sees one channel split plus the previous head's output.

    The map is cut into ``M x M`` windows (zero-padded at the bottom and right to a multiple of ``M``, then
    cropped back). In a window the channels are split into ``h`` groups ``X_1..X_h``; head ``j`` takes
    ``X'_j = X_j + Y_{j-1}`` (``X'_1 = X_1``), projects it with a 1x1 conv + BN to ``q, k`` (``key_dim``
    channels each) and ``v`` (``C / h`` channels), refines ``q`` with a depthwise ``k_j x k_j`` conv + BN, and
    attends: ``Y_j = softmax(q^T k / sqrt(key_dim) + B_j) v``, where ``B_j`` is a learned bias per head indexed
    by the absolute offset ``(|dy|, |dx|)`` of the two positions. The outputs are concatenated, passed through
    ReLU and projected by a 1x1 conv + BN. Memory grows with ``H*W*M^2`` per head for window ``M``.

    Args:
        channels: channels ``C`` (split into ``num_heads`` groups of ``C / num_heads``).
        key_dim: channels of queries and keys per head (16 in every EfficientViT model).
        num_heads: heads ``h`` (EfficientViT-M0: 4; the official class default of 8 needs eight kernels).
        window_size: window side ``M`` (7).
        kernels: depthwise kernel size on the queries, one per head (``(5, 5, 5, 5)``).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> cga = cvattn.create("efficientvit-msra", channels=64, key_dim=16, num_heads=4, window_size=7)
        >>> cga(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Works on any ``H, W``: the official ``LocalWindowAttention`` asserts a fixed square resolution, and when
        that resolution is at most the window it uses a window of that resolution, whereas this module always
        uses ``window_size`` windows and pads. The value width is ``C / num_heads``, the only one for which the
        official cascade runs (its ``attn_ratio`` is ``C / (key_dim * num_heads)`` in every model).

    Reference:
        Liu, Peng, Zheng, Yang, Hu, Yuan. EfficientViT: Memory Efficient Vision Transformer with Cascaded Group
        Attention. CVPR 2023.
    """

    def __init__(
        self,
        channels: int,
        key_dim: int = 16,
        num_heads: int = 4,
        window_size: int = 7,
        kernels: Sequence[int] = (5, 5, 5, 5),
    ) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if len(kernels) < num_heads or any(k < 1 or k % 2 == 0 for k in kernels[:num_heads]):
            raise ValueError(f"need one odd kernel size per head ({num_heads}), got {tuple(kernels)}")
        if key_dim < 1 or window_size < 1:
            raise ValueError(f"key_dim and window_size must be positive, got {key_dim}, {window_size}")
        self.channels, self.key_dim, self.num_heads, self.window_size = (
            channels,
            key_dim,
            num_heads,
            window_size,
        )
        self.d = channels // num_heads
        self.scale = key_dim**-0.5
        self.qkvs = nn.ModuleList(
            ConvNormAct(self.d, 2 * key_dim + self.d, 1, act_layer=None) for _ in range(num_heads)
        )
        self.dws = nn.ModuleList(
            ConvNormAct(key_dim, key_dim, k, groups=key_dim, act_layer=None) for k in kernels[:num_heads]
        )
        self.proj = nn.Sequential(nn.ReLU(), ConvNormAct(self.d * num_heads, channels, 1, act_layer=None))
        self.attention_biases = nn.Parameter(torch.zeros(num_heads, window_size * window_size))
        self.register_buffer("attention_bias_idxs", _offset_index(window_size), persistent=False)

    def _attend(self, x: torch.Tensor) -> torch.Tensor:
        """Cascaded group attention on windows ``(B, C, M, M)``."""
        m, kd = self.window_size, self.key_dim
        biases = self.attention_biases[:, self.attention_bias_idxs]  # (h, M^2, M^2)
        splits = x.chunk(self.num_heads, dim=1)
        outs = []
        feat = splits[0]
        for j in range(self.num_heads):
            if j > 0:
                feat = feat + splits[j]  # X'_j = X_j + Y_{j-1}
            q, k, v = self.qkvs[j](feat).split([kd, kd, self.d], dim=1)
            q = self.dws[j](q)
            y = F.scaled_dot_product_attention(
                to_tokens(q), to_tokens(k), to_tokens(v), attn_mask=biases[j], scale=self.scale
            )  # (B, M^2, d)
            feat = from_tokens(y, (m, m))
            outs.append(feat)
        return self.proj(torch.cat(outs, dim=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h, w = x.size(0), self.channels, x.size(2), x.size(3)
        m = self.window_size
        pad_b, pad_r = (m - h % m) % m, (m - w % m) % m
        t = F.pad(to_channels_last(x), (0, 0, 0, pad_r, 0, pad_b))  # (N, H', W', C)
        nh, nw = (h + pad_b) // m, (w + pad_r) // m
        # window partition: (N, nh*M, nw*M, C) -> (N*nh*nw, C, M, M)
        t = t.reshape(n, nh, m, nw, m, c).transpose(2, 3).reshape(n * nh * nw, m, m, c)
        y = to_channels_last(self._attend(from_channels_last(t)))  # (N*nh*nw, M, M, C)
        # window reverse and crop
        y = y.reshape(n, nh, nw, m, m, c).transpose(2, 3).reshape(n, nh * m, nw * m, c)[:, :h, :w]
        return match_memory_format(from_channels_last(y), x)
