"""Multi-axis attention of MaxViT: block (local window) and grid (dilated, global) attention.

Paper: "MaxViT: Multi-Axis Vision Transformer", Zhengzhong Tu, Hossein Talebi, Han Zhang, Feng Yang, Peyman
Milanfar, Alan Bovik, Yinxiao Li, ECCV 2022, https://arxiv.org/abs/2204.01697. Official code (TensorFlow):
https://github.com/google-research/maxvit (``maxvit/models/maxvit.py``, ``Attention`` and ``MaxViTBlock``;
``maxvit/models/attention_utils.py`` for the relative position bias).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import attend, check_input, match_memory_format
from ..tokens import from_channels_last, to_channels_last

PARTITIONS = ("block", "grid")


def relative_bias_index(size: int) -> torch.Tensor:
    """``(P*P, P*P)`` index into the flattened ``(2P-1, 2P-1)`` table: query ``(i, j)``, key ``(x, y)`` reads
    entry ``(x - i + P - 1, y - j + P - 1)`` (key minus query, as the official einsum lookup)."""
    r = torch.arange(size)
    rows, cols = torch.meshgrid(r, r, indexing="ij")
    rows, cols = rows.flatten(), cols.flatten()  # (P*P,), row-major
    d_row = rows[None, :] - rows[:, None] + size - 1  # [query, key]
    d_col = cols[None, :] - cols[:, None] + size - 1
    return d_row * (2 * size - 1) + d_col


def _partition(x: torch.Tensor, p: int, grid: bool) -> torch.Tensor:
    """``(N, Hp, Wp, C)`` to ``(N * nW, P*P, C)``: ``P x P`` blocks of adjacent pixels, or, for the grid, the
    ``P x P`` pixels spaced ``(Hp/P, Wp/P)`` apart (one per cell of a ``P x P`` grid)."""
    n, hp, wp, c = x.size(0), x.size(1), x.size(2), x.size(3)
    if grid:
        x = x.reshape(n, p, hp // p, p, wp // p, c).permute(0, 2, 4, 1, 3, 5)  # (N, Hp/P, Wp/P, P, P, C)
    else:
        x = x.reshape(n, hp // p, p, wp // p, p, c).permute(0, 1, 3, 2, 4, 5)  # (N, Hp/P, Wp/P, P, P, C)
    return x.reshape(-1, p * p, c)


def _stitch(t: torch.Tensor, p: int, grid: bool, n: int, hp: int, wp: int) -> torch.Tensor:
    """Inverse of :func:`_partition`: ``(N * nW, P*P, C)`` back to ``(N, Hp, Wp, C)``."""
    c = t.size(2)
    t = t.reshape(n, hp // p, wp // p, p, p, c)
    t = t.permute(0, 3, 1, 4, 2, 5) if grid else t.permute(0, 1, 3, 2, 4, 5)
    return t.reshape(n, hp, wp, c)


@register(
    "maxvit-block",
    kind="attention",
    inputs=(64, 14, 14),
    channels=64,
    head_size=32,
    partition="block",
    size=7,
)
@register(
    "maxvit-grid", kind="attention", inputs=(64, 14, 14), channels=64, head_size=32, partition="grid", size=7
)
class MaxViTAttention(nn.Module):
    """MaxViT block or grid attention: multi-head softmax attention with a 2-D relative position bias.

    Block attention cuts the map into non-overlapping ``P x P`` windows of adjacent pixels (local
    interaction); grid attention takes a fixed ``P x P`` grid and lets the pixels at the same position of every
    cell attend to each other, i.e. windows of ``P x P`` pixels spaced ``(H/P, W/P)`` apart (sparse global
    interaction). Within each window, per head, ``softmax(Q K^T / sqrt(d) + B) V`` with ``Q, K, V`` from three
    linear maps, ``d`` the head size and ``B[(i, j), (x, y)] = T[x - i + P - 1, y - j + P - 1]`` read from a
    learnt ``(2P-1) x (2P-1)`` table per head (offsets on the window's own ``P x P`` coordinates); the heads are
    projected back to ``C``. A MaxViT block applies block then grid attention. Memory grows with ``H*W*P^2``
    per head for window or grid size ``P``.

    Args:
        channels: channels ``C`` (official ``hidden_size``).
        head_size: channels per head ``d`` (official: 32 in every MaxViT).
        num_heads: heads (None: ``C // d``, as the official default).
        partition: ``"block"`` (window attention) or ``"grid"`` (grid attention).
        size: window side or grid side ``P`` (official: 7 at 224 px, 12 at 384 px, 16 at 512 px).
        attn_drop: dropout on the attention weights (official ``dropatt``, default none).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> attn = cvattn.create("maxvit-grid", channels=64, head_size=32, size=7)
        >>> attn(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map and partitions it itself (the official ``Attention`` takes the
        partitioned windows); it is only the attention of a MaxViT block (no LayerNorm, MBConv, FFN or
        residual). The official code raises an error for maps that do not divide ``P``; here they are
        zero-padded at the bottom and right and cropped back, and the padded pixels take part as keys. The
        official resizing of the bias table for fine-tuning at another resolution (``scale_ratio``) is left out.

    Reference:
        Tu, Talebi, Zhang, Yang, Milanfar, Bovik, Li. MaxViT: Multi-Axis Vision Transformer. ECCV 2022.
    """

    def __init__(
        self,
        channels: int,
        head_size: int = 32,
        num_heads: int | None = None,
        partition: str = "block",
        size: int = 7,
        attn_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if partition not in PARTITIONS:
            raise ValueError(f"partition must be one of {PARTITIONS}, got {partition!r}")
        if num_heads is None:
            if head_size < 1 or channels % head_size:
                raise ValueError(f"channels ({channels}) must be divisible by head_size ({head_size})")
            num_heads = channels // head_size
        if num_heads < 1 or head_size < 1 or size < 1:
            raise ValueError(
                f"num_heads ({num_heads}), head_size ({head_size}) and size ({size}) must be >= 1"
            )
        self.channels, self.head_size, self.num_heads = channels, head_size, num_heads
        self.partition, self.size, self.attn_drop = partition, size, attn_drop
        inner = num_heads * head_size
        self.q = nn.Linear(channels, inner)
        self.k = nn.Linear(channels, inner)
        self.v = nn.Linear(channels, inner)
        self.o = nn.Linear(inner, channels)
        self.relative_bias = nn.Parameter(torch.empty(num_heads, 2 * size - 1, 2 * size - 1))  # T
        nn.init.normal_(self.relative_bias, std=0.02)
        self.register_buffer("relative_index", relative_bias_index(size), persistent=False)

    def bias(self) -> torch.Tensor:
        """``B``: the ``(heads, P*P, P*P)`` relative position bias."""
        return self.relative_bias.flatten(1)[:, self.relative_index]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h, w = x.shape
        p, heads, d = self.size, self.num_heads, self.head_size
        grid = self.partition == "grid"
        pad_b, pad_r = (p - h % p) % p, (p - w % p) % p
        hp, wp = h + pad_b, w + pad_r
        t = _partition(F.pad(to_channels_last(x), (0, 0, 0, pad_r, 0, pad_b)), p, grid)  # (B', P*P, C)
        q, k, v = (proj(t).unflatten(-1, (heads, d)).transpose(1, 2) for proj in (self.q, self.k, self.v))
        drop = self.attn_drop if self.training else 0.0
        o = attend(q, k, v, self.bias(), scale=d**-0.5, dropout_p=drop)
        y = self.o(o.transpose(1, 2).flatten(2))  # (B', P*P, C)
        y = _stitch(y, p, grid, n, hp, wp)[:, :h, :w]  # (N, H, W, C)
        return match_memory_format(from_channels_last(y), x)
