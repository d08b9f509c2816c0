"""Linear spatial-reduction attention (linear SRA) and spatial-reduction attention of PVT v2.

Paper: "PVT v2: Improved Baselines with Pyramid Vision Transformer", Wenhai Wang, Enze Xie, Xiang Li, Deng-Ping
Fan, Kaitao Song, Ding Liang, Tong Lu, Ping Luo, Ling Shao, Computational Visual Media 8(3), 2022 (arXiv 2021),
https://arxiv.org/abs/2106.13797. Official code: https://github.com/whai362/PVT (branch v2,
``classification/pvt_v2.py``, ``Attention`` with ``linear=True``, and with ``linear=False`` for the PVT v2-B0 to
B5 models' spatial-reduction attention).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act, get_layer, match_memory_format
from ..tokens import from_tokens, to_tokens
from .pvt import SpatialReductionAttention


@register("pvtv2", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=1, qkv_bias=True)
class LinearSRA(nn.Module):
    """PVT v2 linear SRA: multi-head attention on keys/values pooled to a fixed ``P x P`` grid.

    Queries ``Q = X W_q`` come from all ``H*W`` positions. Keys and values come from
    ``R = GELU(LN(Conv_{1x1}(AvgPool_{P x P}(X))))``, an adaptive average pooling of the whole map to
    ``P x P`` cells (``P = 7``) followed by a 1x1 conv, LayerNorm and GELU:
    ``Y = proj(concat_i softmax(Q_i K_i^T * scale) V_i)`` with ``K = R W_k``, ``V = R W_v`` and
    ``scale = d^-1/2`` for head dimension ``d = C / heads``. There are always ``P^2`` keys, so the cost is
    linear in the number of pixels. Memory grows with ``H*W*P^2`` per head.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: attention heads (official default 8; PVT v2 stages use 1, 2, 5, 8).
        qkv_bias: bias in the query and key/value projections (official default False; the PVT v2 models
            pass True).
        qk_scale: the attention scale; ``None`` means ``(C / num_heads) ** -0.5`` (official default).
        attn_drop: dropout on the attention weights (official default 0).
        proj_drop: dropout after the output projection (official default 0).
        pool_size: side ``P`` of the pooled key/value grid (7, fixed in the official code).
        norm_layer: normalisation of the pooled tokens (LayerNorm, fixed in the official code).
        act_layer: activation after it (GELU, fixed in the official code).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> attn = cvattn.create("pvtv2", channels=64, num_heads=1)
        >>> attn(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, H*W, C)`` tokens plus ``H, W``. The official
        class with ``linear=False`` is registered separately, as ``pvtv2-sra``.

    Reference:
        Wang et al. PVT v2: Improved Baselines with Pyramid Vision Transformer. Computational Visual Media
        8(3), 2022.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 8,
        qkv_bias: bool = False,
        qk_scale: float | None = None,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
        pool_size: int = 7,
        norm_layer: LayerType = nn.LayerNorm,
        act_layer: LayerType = nn.GELU,
    ) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if pool_size < 1:
            raise ValueError(f"pool_size must be a positive integer, got {pool_size}")
        self.channels, self.num_heads, self.pool_size = channels, num_heads, pool_size
        self.scale = qk_scale or (channels // num_heads) ** -0.5
        self.attn_drop = attn_drop
        self.q = nn.Linear(channels, channels, bias=qkv_bias)
        self.kv = nn.Linear(channels, 2 * channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)
        self.pool = nn.AdaptiveAvgPool2d(pool_size)
        self.sr = nn.Conv2d(channels, channels, kernel_size=1)
        self.norm = get_layer(norm_layer)(channels)
        self.act = create_act(act_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h = x.size(0), self.channels, self.num_heads
        q = self.q(to_tokens(x)).reshape(n, -1, h, c // h).transpose(1, 2)  # (N, h, HW, d)
        reduced = self.act(self.norm(to_tokens(self.sr(self.pool(x)))))  # (N, P^2, C)
        k, v = self.kv(reduced).reshape(n, -1, 2, h, c // h).permute(2, 0, 3, 1, 4)  # 2 x (N, h, P^2, d)
        drop = self.attn_drop if self.training else 0.0
        context = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, scale=self.scale)  # (N, h, HW, d)
        y = self.proj_drop(self.proj(context.transpose(1, 2).reshape(n, -1, c)))  # (N, HW, C)
        return match_memory_format(from_tokens(y, (x.shape[-2], x.shape[-1])), x)


@register(
    "pvtv2-sra", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=1, sr_ratio=8, qkv_bias=True
)
class PVTv2SRA(SpatialReductionAttention):
    """PVT v2 spatial-reduction attention: the ``linear=False`` attention of the PVT v2-B0 to B5 models.

    Queries come from all ``H*W`` positions; keys and values from ``LN(Conv_{s x s, stride s}(X))``, one token
    per non-overlapping ``s x s`` patch (``s = sr_ratio``):
    ``Y = proj(concat_i softmax(Q_i K_i^T * scale) V_i)`` with ``scale = d^-1/2`` for head dimension
    ``d = C / heads``. The official class computes exactly PVT v1's SRA (``pvt``) here; PVT v2 changes the
    patch embedding and the feed-forward network around it. Memory grows with ``(H*W)^2 / s^2`` per head. When
    ``H`` or ``W`` is not a multiple of ``s`` the reduction conv drops the last rows and columns, as the
    official code does.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: attention heads (official default 8; PVT v2 stages use 1, 2, 5, 8).
        qkv_bias: bias in the query and key/value projections (official default False; the PVT v2 models
            pass True).
        qk_scale: the attention scale; ``None`` means ``(C / num_heads) ** -0.5`` (official default).
        attn_drop: dropout on the attention weights (official default 0).
        proj_drop: dropout after the output projection (official default 0).
        sr_ratio: reduction ratio ``s`` (official default 1; PVT v2 stages use 8, 4, 2, 1).
        norm_layer: normalisation of the reduced tokens (LayerNorm, fixed in the official code).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> sra = cvattn.create("pvtv2-sra", channels=64, num_heads=1, sr_ratio=8)
        >>> sra(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, H*W, C)`` tokens plus ``H, W``.

    Reference:
        Wang et al. PVT v2: Improved Baselines with Pyramid Vision Transformer. Computational Visual Media
        8(3), 2022.
    """
