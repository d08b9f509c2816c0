"""Long short distance attention (LSDA) with dynamic position bias of CrossFormer.

Paper: "CrossFormer: A Versatile Vision Transformer Hinging on Cross-scale Attention", Wenxiao Wang, Lu Yao,
Long Chen, Binbin Lin, Deng Cai, Xiaofei He, Wei Liu, ICLR 2022, https://openreview.net/forum?id=_PHymLIxuI
(arXiv 2108.00154). Official code: https://github.com/cheerss/CrossFormer (``models/crossformer.py``,
``Attention``, ``DynamicPosBias`` and the grouping of ``CrossFormerBlock``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_channels_last, to_channels_last

_NEG_INF = -1e6  # the official additive mask value for padded keys


class _DynamicPositionBias(nn.Module):
    """DPB: an MLP from a relative offset ``(dy, dx)`` to one bias per head (Linear, then 3 x LN-ReLU-Linear)."""

    def __init__(self, hidden: int, num_heads: int) -> None:
        super().__init__()
        self.pos_proj = nn.Linear(2, hidden)
        self.pos1 = nn.Sequential(nn.LayerNorm(hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.pos2 = nn.Sequential(nn.LayerNorm(hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.pos3 = nn.Sequential(nn.LayerNorm(hidden), nn.ReLU(), nn.Linear(hidden, num_heads))

    def forward(self, offsets: torch.Tensor) -> torch.Tensor:
        return self.pos3(self.pos2(self.pos1(self.pos_proj(offsets))))


class _LSDA(nn.Module):
    """Self-attention inside groups of ``G x G`` tokens sampled every ``interval`` pixels (1: adjacent tokens)."""

    def __init__(
        self,
        channels: int,
        num_heads: int,
        group_size: int,
        interval: int,
        qkv_bias: bool,
        attn_drop: float,
        proj_drop: float,
    ) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if channels < 16:
            raise ValueError(
                f"channels ({channels}) must be >= 16 (the position-bias MLP is channels // 16 wide)"
            )
        if group_size < 1 or interval < 1:
            raise ValueError(f"group_size ({group_size}) and interval ({interval}) must be >= 1")
        self.channels, self.num_heads = channels, num_heads
        self.group_size, self.interval = group_size, interval
        self.scale = (channels // num_heads) ** -0.5
        self.attn_drop = attn_drop
        self.qkv = nn.Linear(channels, 3 * channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)
        self.pos = _DynamicPositionBias(
            channels // 16, num_heads
        )  # the official passes C // 4, which DPB quarters
        g = group_size
        span = torch.arange(1 - g, g)
        offsets = torch.stack(torch.meshgrid(span, span, indexing="ij")).flatten(1).T.float()  # ((2G-1)^2, 2)
        coords = torch.stack(torch.meshgrid(torch.arange(g), torch.arange(g), indexing="ij")).flatten(1)
        rel = coords[:, :, None] - coords[:, None, :] + (g - 1)  # (2, G^2, G^2)
        self.register_buffer("offsets", offsets, persistent=False)
        self.register_buffer("relative_position_index", rel[0] * (2 * g - 1) + rel[1], persistent=False)

    def _group(self, t: torch.Tensor, rh: int, rw: int) -> torch.Tensor:
        """``(N, Hp, Wp, C)`` to ``(N, groups, G^2, C)``: members of a group lie ``interval`` apart."""
        n, c, g, i = t.shape[0], t.shape[-1], self.group_size, self.interval
        t = t.reshape(n, rh, g, i, rw, g, i, c).permute(0, 1, 4, 3, 6, 2, 5, 7)  # (N, Rh, Rw, I, I, G, G, C)
        return t.reshape(n, -1, g * g, c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h, g, i = x.size(0), self.channels, self.num_heads, self.group_size, self.interval
        d = c // h
        height, width = x.shape[-2], x.shape[-1]
        pad_h, pad_w = (g * i - height % (g * i)) % (g * i), (g * i - width % (g * i)) % (g * i)
        t = F.pad(to_channels_last(x), (0, 0, 0, pad_w, 0, pad_h))  # zeros at the bottom and right
        hp, wp = t.shape[1], t.shape[2]
        rh, rw = hp // (g * i), wp // (g * i)
        # 0 for real keys, -1e6 for padded ones, per group: (N, groups, 1, 1, G^2)
        valid = F.pad(torch.ones_like(x[:, :1]), (0, pad_w, 0, pad_h))
        mask = (1.0 - self._group(to_channels_last(valid), rh, rw)) * _NEG_INF
        qkv = self.qkv(self._group(t, rh, rw)).reshape(n, -1, g * g, 3, h, d)
        q, k, v = qkv.permute(3, 0, 1, 4, 2, 5).unbind(0)  # 3 x (N, groups, h, G^2, d)
        bias = self.pos(self.offsets)[self.relative_position_index].permute(2, 0, 1)  # (h, G^2, G^2)
        attn_mask = (bias + mask.transpose(-2, -1).unsqueeze(-2)).to(q.dtype)  # (N, groups, h, G^2, G^2)
        drop = self.attn_drop if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=drop, scale=self.scale)
        y = self.proj_drop(self.proj(y.transpose(2, 3).reshape(n, -1, g * g, c)))  # (N, groups, G^2, C)
        # ungroup: (N, Rh, Rw, I, I, G, G, C) -> (N, Rh, G, I, Rw, G, I, C) -> (N, Hp, Wp, C)
        y = y.reshape(n, rh, rw, i, i, g, g, c).permute(0, 1, 5, 3, 2, 6, 4, 7).reshape(n, hp, wp, c)
        return match_memory_format(from_channels_last(y[:, :height, :width]), x)


@register("crossformer-sda", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=2, group_size=7)
class CrossFormerSDA(_LSDA):
    """CrossFormer short distance attention (SDA): self-attention in ``G x G`` windows of adjacent tokens.
    Queries, keys and values are split into ``h`` heads of ``d = C / h``; within every group of ``G x G``
    tokens ``A = softmax(q k^T / sqrt(d) + B + M)``, ``out = W_o (A v)``, where ``B`` is the dynamic position
    bias: an MLP (Linear, then three LayerNorm-ReLU-Linear steps, ``C / 16`` wide) maps every relative offset
    ``(dy, dx)`` with ``|dy|, |dx| < G`` to one bias per head, so the bias is defined for any group size. The
    map is zero-padded at the bottom and right to a multiple of the group span (``G`` for SDA, ``G I`` for
    LDA), padded keys get ``M = -1e6`` (the official mask) and the output is cropped back. Memory grows with
    ``H*W*G^2`` per head for group size ``G``.

    Args:
        channels: channels ``C`` (the embedding dimension; at least 16).
        num_heads: heads ``h`` (CrossFormer: ``C / 32``, e.g. 3, 6, 12, 24).
        group_size: window ``G`` (CrossFormer: 7).
        qkv_bias: bias in the query/key/value projection (CrossFormer: True).
        attn_drop: dropout on the attention weights (0).
        proj_drop: dropout after the output projection (0).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> sda = cvattn.create("crossformer-sda", channels=64, num_heads=2, group_size=7)
        >>> sda(torch.randn(2, 64, 13, 17)).shape
        torch.Size([2, 64, 13, 17])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, HW, C)`` tokens; the padding and mask are
        computed from each input instead of from a resolution fixed at construction. The official block
        replaces the groups by one window of ``min(H, W)`` when the map is no larger than a group; this module
        always uses ``G`` and pads.

    Reference:
        Wang et al. CrossFormer: A Versatile Vision Transformer Hinging on Cross-scale Attention. ICLR 2022.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 2,
        group_size: int = 7,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__(channels, num_heads, group_size, 1, qkv_bias, attn_drop, proj_drop)


@register(
    "crossformer-lda",
    kind="attention",
    inputs=(64, 14, 14),
    channels=64,
    num_heads=2,
    group_size=7,
    interval=2,
)
class CrossFormerLDA(_LSDA):
    """CrossFormer long distance attention (LDA): self-attention among ``G x G`` tokens sampled ``I`` apart.

    Within every block of ``G I x G I`` pixels the tokens whose row and column have the same residues modulo
    ``I`` form one group, so a group spans the whole block and attention links distant positions.
    Queries, keys and values are split into ``h`` heads of ``d = C / h``; within every group of ``G x G``
    tokens ``A = softmax(q k^T / sqrt(d) + B + M)``, ``out = W_o (A v)``, where ``B`` is the dynamic position
    bias: an MLP (Linear, then three LayerNorm-ReLU-Linear steps, ``C / 16`` wide) maps every relative offset
    ``(dy, dx)`` with ``|dy|, |dx| < G`` to one bias per head, so the bias is defined for any group size. The
    map is zero-padded at the bottom and right to a multiple of the group span (``G`` for SDA, ``G I`` for
    LDA), padded keys get ``M = -1e6`` (the official mask) and the output is cropped back. Memory grows with
    ``H*W*G^2`` per head for group size ``G``.

    Args:
        channels: channels ``C`` (the embedding dimension; at least 16).
        num_heads: heads ``h`` (CrossFormer: ``C / 32``, e.g. 3, 6, 12, 24).
        group_size: tokens per group side ``G`` (CrossFormer: 7).
        interval: sampling interval ``I`` (CrossFormer stages: 8, 4, 2, 1, so that ``G I`` is the map size
            at 224 pixels; class default 8).
        qkv_bias: bias in the query/key/value projection (CrossFormer: True).
        attn_drop: dropout on the attention weights (0).
        proj_drop: dropout after the output projection (0).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> lda = cvattn.create("crossformer-lda", channels=64, num_heads=2, group_size=7, interval=2)
        >>> lda(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, HW, C)`` tokens; the padding and mask are
        computed from each input instead of from a resolution fixed at construction. The official block
        switches to short distance attention in one window of ``min(H, W)`` when the map is no larger than a
        group; this module always groups with ``G`` and ``I`` and pads.

    Reference:
        Wang et al. CrossFormer: A Versatile Vision Transformer Hinging on Cross-scale Attention. ICLR 2022.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 2,
        group_size: int = 7,
        interval: int = 8,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__(channels, num_heads, group_size, interval, qkv_bias, attn_drop, proj_drop)
