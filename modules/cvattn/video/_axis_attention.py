"""Multi-head softmax self-attention along one axis of a token grid, shared by the factorised video modules."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class AxisSelfAttention(nn.Module):
    """Multi-head self-attention over the second-to-last axis of ``(..., L, C)`` tokens (one qkv, one proj);
    every leading index is its own sequence."""

    def __init__(
        self, channels: int, num_heads: int, qkv_bias: bool, attn_drop: float, proj_drop: float
    ) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.attn_drop = attn_drop
        self.qkv = nn.Linear(channels, 3 * channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor, scale: float) -> torch.Tensor:
        length, c, heads = x.size(-2), x.size(-1), self.num_heads
        qkv = self.qkv(x).reshape(-1, length, 3, heads, c // heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # 3 x (B, h, L, d)
        drop = self.attn_drop if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, scale=scale)  # (B, h, L, d)
        y = y.transpose(1, 2).reshape(x.shape)  # (..., L, C)
        return self.proj_drop(self.proj(y))
