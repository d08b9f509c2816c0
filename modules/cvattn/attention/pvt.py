"""Spatial-reduction attention (SRA) of the Pyramid Vision Transformer.

Paper: "Pyramid Vision Transformer: A Versatile Backbone for Dense Prediction without Convolutions", Wenhai Wang,
Enze Xie, Xiang Li, Deng-Ping Fan, Kaitao Song, Ding Liang, Tong Lu, Ping Luo, Ling Shao, ICCV 2021,
https://arxiv.org/abs/2102.12122. Official code: https://github.com/whai362/PVT (``classification/pvt.py``,
``Attention``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, get_layer, match_memory_format
from ..tokens import from_tokens, to_tokens


@register("pvt", kind="attention", inputs=(128, 14, 14), channels=128, num_heads=2, sr_ratio=4, qkv_bias=True)
class SpatialReductionAttention(nn.Module):
    """PVT spatial-reduction attention: multi-head attention on keys/values from a map shrunk ``s`` times.

    Queries ``Q = X W_q`` come from all ``H*W`` positions. Keys and values come from the reduced sequence
    ``SR(X) = LN(Conv_{s x s, stride s}(X))``, i.e. each non-overlapping ``s x s`` patch becomes one token
    (``s = sr_ratio``; for ``s = 1`` keys and values come from ``X`` itself):
    ``SRA(X) = proj(concat_i softmax(Q_i K_i^T * scale) V_i)`` with ``K = SR(X) W_k``, ``V = SR(X) W_v``
    and ``scale = d^-1/2`` for head dimension ``d = C / heads``. Memory grows with ``(H*W)^2 / s^2`` per head.
    When ``H`` or ``W`` is not a multiple of ``s``, the reduction conv (no padding) drops the last rows and
    columns, as the official code does.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: attention heads (official default 8; PVT stages use 1, 2, 5, 8).
        qkv_bias: bias in the query and key/value projections (official default False; the PVT models pass
            True).
        qk_scale: the attention scale; ``None`` means ``(C / num_heads) ** -0.5`` (official default).
        attn_drop: dropout on the attention weights (official default 0).
        proj_drop: dropout after the output projection (official default 0).
        sr_ratio: reduction ratio ``s`` of keys and values (official default 1; PVT stages use 8, 4, 2, 1).
        norm_layer: normalisation of the reduced tokens (LayerNorm, fixed in the official code).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> sra = cvattn.create("pvt", channels=128, num_heads=2, sr_ratio=4)
        >>> sra(torch.randn(2, 128, 14, 14)).shape
        torch.Size([2, 128, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, H*W, C)`` tokens plus ``H, W``.

    Reference:
        Wang et al. Pyramid Vision Transformer: A Versatile Backbone for Dense Prediction without
        Convolutions. ICCV 2021.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 8,
        qkv_bias: bool = False,
        qk_scale: float | None = None,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
        sr_ratio: int = 1,
        norm_layer: LayerType = nn.LayerNorm,
    ) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if sr_ratio < 1:
            raise ValueError(f"sr_ratio must be a positive integer, got {sr_ratio}")
        self.channels, self.num_heads, self.sr_ratio = channels, num_heads, sr_ratio
        self.scale = qk_scale or (channels // num_heads) ** -0.5
        self.attn_drop = attn_drop
        self.q = nn.Linear(channels, channels, bias=qkv_bias)
        self.kv = nn.Linear(channels, 2 * channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)
        if sr_ratio > 1:
            self.sr = nn.Conv2d(channels, channels, kernel_size=sr_ratio, stride=sr_ratio)
            self.norm = get_layer(norm_layer)(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h = x.size(0), self.channels, self.num_heads
        tokens = to_tokens(x)  # (N, HW, C)
        q = self.q(tokens).reshape(n, -1, h, c // h).transpose(1, 2)  # (N, h, HW, d)
        reduced = self.norm(to_tokens(self.sr(x))) if self.sr_ratio > 1 else tokens  # (N, HW/s^2, C)
        k, v = self.kv(reduced).reshape(n, -1, 2, h, c // h).permute(2, 0, 3, 1, 4)  # 2 x (N, h, HW', d)
        drop = self.attn_drop if self.training else 0.0
        context = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, scale=self.scale)  # (N, h, HW, d)
        y = self.proj_drop(self.proj(context.transpose(1, 2).reshape(n, -1, c)))  # (N, HW, C)
        return match_memory_format(from_tokens(y, (x.shape[-2], x.shape[-1])), x)
