"""Factorised self-attention (Model 3) and factorised dot-product attention (Model 4) of ViViT.

Paper: "ViViT: A Video Vision Transformer", Anurag Arnab, Mostafa Dehghani, Georg Heigold, Chen Sun, Mario Lučić,
Cordelia Schmid, ICCV 2021, https://arxiv.org/abs/2103.15691. Official code (JAX/Flax):
https://github.com/google-research/scenic/tree/main/scenic/projects/vivit (``model.py``,
``EncoderFactorizedSelfAttentionBlock``; ``model_utils.py``, ``factorized_dot_product_attention``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..clips import check_clip
from ._axis_attention import AxisSelfAttention

ORDERS = ("space_time", "time_space")


@register("vivit", kind="attention", inputs=(64, 4, 7, 7), channels=64, num_heads=4)
class FactorisedSelfAttention(nn.Module):
    """ViViT Model 3: factorised self-attention, spatial self-attention then temporal self-attention.

    Within one block the tokens of each frame first attend to each other (spatial multi-head self-attention
    over ``H*W``, ``y_s = z + MSA_s(z)``), then the tokens at each spatial position attend across the frames
    (temporal self-attention over ``T``, ``y_t = y_s + MSA_t(y_s)``); each step has its own query/key/value and
    output projections. The module returns the block's attention update ``MSA_s(z) + MSA_t(y_s)``, so that
    ``z + module(z)`` is ``y_t``. Cost grows with ``T*H*W*(T + H*W)`` per head instead of ``(T*H*W)^2``.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads ``h`` of both attentions (ViViT-B: 12, ViViT-L: 16, 64 channels per head).
        order: ``"space_time"`` (the paper's Model 3: spatial, then temporal) or ``"time_space"`` (the
            official block's default ``attention_order``).
        qkv_bias: bias in the query/key/value projections (official: True).
        attn_drop: dropout on the attention weights.
        proj_drop: dropout after the output projections.

    Shape:
        - Input: ``(N, C, T, H, W)``
        - Output: ``(N, C, T, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> attn = cvattn.create("vivit", channels=64, num_heads=4)
        >>> attn(torch.randn(2, 64, 4, 7, 7)).shape
        torch.Size([2, 64, 4, 7, 7])

    Deviations:
        Only the attention of the factorised block: no LayerNorms before the two attentions, no position
        embeddings, MLP or outer residual. The query, key and value projections of each attention are one
        fused linear layer (the official Flax ``SelfAttention`` has three; same parameters). The default order
        is the paper's (spatial first); the official block's default is ``time_space``.

    Reference:
        Arnab, Dehghani, Heigold, Sun, Lučić, Schmid. ViViT: A Video Vision Transformer. ICCV 2021.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 12,
        order: str = "space_time",
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if order not in ORDERS:
            raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
        self.channels, self.num_heads, self.order = channels, num_heads, order
        self.scale = (channels // num_heads) ** -0.5
        self.spatial_attn = AxisSelfAttention(channels, num_heads, qkv_bias, attn_drop, proj_drop)
        self.temporal_attn = AxisSelfAttention(channels, num_heads, qkv_bias, attn_drop, proj_drop)

    def _spatial(self, z: torch.Tensor) -> torch.Tensor:
        """``MSA_s`` of ``(N, T, H, W, C)`` tokens, over the ``H*W`` tokens of each frame."""
        n, t, h, w, c = z.size(0), z.size(1), z.size(2), z.size(3), self.channels
        return self.spatial_attn(z.reshape(n, t, h * w, c), self.scale).reshape(n, t, h, w, c)

    def _temporal(self, z: torch.Tensor) -> torch.Tensor:
        """``MSA_t`` of ``(N, T, H, W, C)`` tokens, over the ``T`` tokens at each position."""
        return self.temporal_attn(z.permute(0, 2, 3, 1, 4), self.scale).permute(0, 3, 1, 2, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_clip(x, self.channels, type(self).__name__)
        z = x.permute(0, 2, 3, 4, 1)  # (N, T, H, W, C)
        steps = (self._spatial, self._temporal)
        first, second = steps if self.order == "space_time" else steps[::-1]
        res_first = first(z)
        res_second = second(z + res_first)
        return (res_first + res_second).permute(0, 4, 1, 2, 3).contiguous()


@register("vivit-dot-product", kind="attention", inputs=(64, 4, 7, 7), channels=64, num_heads=4)
class FactorisedDotProductAttention(nn.Module):
    """ViViT Model 4: factorised dot-product attention, half of the heads over time and half over space.

    One multi-head self-attention over the clip's tokens, with shared query/key/value projections, whose heads
    are split in two groups: the first ``h/2`` heads attend only across the frames at the same spatial
    position (over ``T``), the other ``h/2`` only within the same frame (over ``H*W``). The heads are
    concatenated and projected as in plain multi-head attention, so the block has the parameters of an image
    ViT attention and costs ``T*H*W*(T + H*W)/2`` per head pair.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads ``h``, even (ViViT-B: 12).
        qkv_bias: bias in the query/key/value projection (official: True).
        attn_drop: dropout on the attention weights.
        proj_drop: dropout after the output projection.

    Shape:
        - Input: ``(N, C, T, H, W)``
        - Output: ``(N, C, T, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> attn = cvattn.create("vivit-dot-product", channels=64, num_heads=4)
        >>> attn(torch.randn(2, 64, 4, 7, 7)).shape
        torch.Size([2, 64, 4, 7, 7])

    Deviations:
        The temporal heads come first, as in the official ``factorized_dot_product_attention`` (the paper's
        equation concatenates the spatial heads first; the two differ by a permutation of the heads). One fused
        query/key/value projection instead of Flax's three (same parameters). Only the attention (no
        LayerNorm, MLP or residual).

    Reference:
        Arnab, Dehghani, Heigold, Sun, Lučić, Schmid. ViViT: A Video Vision Transformer. ICCV 2021.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 12,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if num_heads < 2 or num_heads % 2 or channels % num_heads:
            raise ValueError(f"need an even num_heads ({num_heads}) that divides channels ({channels})")
        self.channels, self.num_heads = channels, num_heads
        self.scale = (channels // num_heads) ** -0.5
        self.attn_drop = attn_drop
        self.qkv = nn.Linear(channels, 3 * channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_clip(x, self.channels, type(self).__name__)
        n, c, t, h, w = x.size(0), self.channels, x.size(2), x.size(3), x.size(4)
        heads, half, d, length = self.num_heads, self.num_heads // 2, self.channels // self.num_heads, h * w
        tokens = x.permute(0, 2, 3, 4, 1).reshape(n, t, length, c)  # (N, T, HW, C)
        qkv = self.qkv(tokens).reshape(n, t, length, 3, heads, d)
        drop = self.attn_drop if self.training else 0.0
        # SDPA on 4-D tensors (its fused CPU kernel takes no more)
        # temporal heads: sequences over T at each position
        q, k, v = qkv[..., :half, :].permute(3, 0, 2, 4, 1, 5).reshape(3, n * length, half, t, d).unbind(0)
        y_t = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, scale=self.scale)  # (N*HW, h/2, T, d)
        y_t = y_t.reshape(n, length, half, t, d).permute(0, 3, 1, 2, 4)  # (N, T, HW, h/2, d)
        # spatial heads: sequences over HW in each frame
        q, k, v = qkv[..., half:, :].permute(3, 0, 1, 4, 2, 5).reshape(3, n * t, half, length, d).unbind(0)
        y_s = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, scale=self.scale)  # (N*T, h/2, HW, d)
        y_s = y_s.reshape(n, t, half, length, d).transpose(2, 3)  # (N, T, HW, h/2, d)
        y = torch.cat((y_t, y_s), dim=3).reshape(n, t, length, c)  # heads concatenated, temporal first
        y = self.proj_drop(self.proj(y))
        return y.reshape(n, t, h, w, c).permute(0, 4, 1, 2, 3).contiguous()
