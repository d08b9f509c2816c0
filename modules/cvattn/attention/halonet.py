"""Blocked local self-attention with haloing (HaloNet).

Paper: "Scaling Local Self-Attention for Parameter Efficient Visual Backbones", Ashish Vaswani, Prajit
Ramachandran, Aravind Srinivas, Niki Parmar, Blake Hechtman, Jonathon Shlens, CVPR 2021,
https://arxiv.org/abs/2103.12731. No official code was released; the paper (Sec. 2) is the reference.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format


def _relative_index(block_size: int, halo_size: int) -> torch.Tensor:
    """``(b, b + 2h)`` rows of a relative table: query ``i`` of a block against window position ``a``,
    offset ``a - h - i`` stored at ``a - h - i + b + h - 1``."""
    query = torch.arange(block_size)[:, None]
    window = torch.arange(block_size + 2 * halo_size)[None, :]
    return window - query + block_size - 1


@register("halonet", kind="attention", inputs=(64, 14, 14), channels=64, heads=8, block_size=8, halo_size=3)
class HaloAttention(nn.Module):
    """HaloNet attention: each ``b x b`` block of queries attends to its block grown by a halo of ``h``.

    The map is cut into non-overlapping ``b x b`` query blocks; keys and values of a block come from
    the ``(b + 2h) x (b + 2h)`` window around it (the block plus its halo). Queries, keys and values
    are bias-free 1x1 projections split into ``heads`` heads of ``d = C / heads`` channels; for query
    ``(i, j)`` and window pixel ``(a, c)`` the logit is
    ``s * (q_ij^T k_ac + q_ij^T r^H_{a-i} + q_ij^T r^W_{c-j})``, with relative height and width
    embeddings ``r^H, r^W`` (``2(b + h) - 1`` offsets of ``d`` channels, shared by the heads) and
    ``s = scale``; ``y_ij = sum_ac softmax_ac(logit) v_ac``, heads concatenated. Every pixel of a
    block shares one window, which makes the operation a batched dense attention. Memory grows with
    ``H*W*(b + 2h)^2`` per head.

    Args:
        channels: channels ``C`` in and out.
        heads: number of heads (default 8).
        block_size: query block size ``b`` (default 8).
        halo_size: halo ``h`` around each block (default 3, a 14 x 14 window).
        scale: logit scale ``s`` (default ``d^-0.5``).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> halo = cvattn.create("halonet", channels=64, heads=8, block_size=8, halo_size=3)
        >>> halo(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        No official code exists; this follows the paper's description. Sizes that are not a multiple
        of ``b`` are zero-padded at the bottom and right and cropped back, and window pixels outside
        the image (image border or that padding) are masked out of the softmax; the paper does not
        say how it treats them. The logits are scaled by ``d^-0.5`` by default (pass ``scale=1.0``
        for the unscaled form of the paper's equation). Only stride 1: the paper's attention
        downsampling (queries of one pixel per block) is not included.

    Reference:
        Vaswani, Ramachandran, Srinivas, Parmar, Hechtman, Shlens. Scaling Local Self-Attention for
        Parameter Efficient Visual Backbones. CVPR 2021.
    """

    def __init__(
        self,
        channels: int,
        heads: int = 8,
        block_size: int = 8,
        halo_size: int = 3,
        scale: float | None = None,
    ) -> None:
        super().__init__()
        if heads < 1 or channels % heads:
            raise ValueError(f"channels ({channels}) must be divisible by heads ({heads})")
        if block_size < 1 or halo_size < 0:
            raise ValueError(f"block_size must be >= 1 and halo_size >= 0, got {block_size}, {halo_size}")
        self.channels, self.heads = channels, heads
        self.block_size, self.halo_size = block_size, halo_size
        self.window_size = block_size + 2 * halo_size
        head_dim = channels // heads
        self.scale = head_dim**-0.5 if scale is None else scale
        self.qkv = nn.Conv2d(channels, 3 * channels, 1, bias=False)
        offsets = 2 * (block_size + halo_size) - 1
        self.rel_height = nn.Parameter(torch.randn(offsets, head_dim) * head_dim**-0.5)
        self.rel_width = nn.Parameter(torch.randn(offsets, head_dim) * head_dim**-0.5)
        self.register_buffer("rel_index", _relative_index(block_size, halo_size), persistent=False)

    def relative_logits(self, q: torch.Tensor) -> torch.Tensor:
        """``q^T r^H + q^T r^W`` for block queries ``(..., b, b, d)``: ``(..., b*b, (b + 2h)^2)``."""
        r_h = self.rel_height[self.rel_index].to(q.dtype)  # (b, b + 2h, d)
        r_w = self.rel_width[self.rel_index].to(q.dtype)
        logits_h = torch.einsum("...ijd,iad->...ija", q, r_h)  # (..., b, b, b + 2h)
        logits_w = torch.einsum("...ijd,jcd->...ijc", q, r_w)
        logits = logits_h.unsqueeze(-1) + logits_w.unsqueeze(-2)  # (..., b, b, b + 2h, b + 2h)
        return logits.flatten(-2).flatten(-3, -2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h, w = x.shape
        heads, d = self.heads, self.channels // self.heads
        b, halo, win = self.block_size, self.halo_size, self.window_size
        pad_h, pad_w = (b - h % b) % b, (b - w % b) % b
        q, k, v = self.qkv(F.pad(x, (0, pad_w, 0, pad_h))).chunk(3, dim=1)  # 3 x (N, C, Hp, Wp)
        q = F.unfold(q, b, stride=b).reshape(n, heads, d, b, b, -1)  # blocks: (N, heads, d, b, b, L)
        q = q.permute(0, 1, 5, 3, 4, 2)  # (N, heads, L, b, b, d)
        kv = F.unfold(torch.cat([k, v], 1), win, padding=halo, stride=b)  # windows: (N, 2C*win^2, L)
        k, v = kv.reshape(n, 2, heads, d, win * win, -1).permute(
            1, 0, 2, 5, 4, 3
        )  # 2 x (N, heads, L, win^2, d)
        inside = F.unfold(
            F.pad(torch.ones_like(x[:1, :1]), (0, pad_w, 0, pad_h)), win, padding=halo, stride=b
        )
        inside = inside.transpose(1, 2).unsqueeze(2) > 0  # (1, L, 1, win^2): window pixel lies in the image
        bias = self.relative_logits(q * self.scale)  # (N, heads, L, b*b, win^2)
        bias = bias.masked_fill(~inside, float("-inf"))
        y = F.scaled_dot_product_attention(
            q.flatten(3, 4), k, v, attn_mask=bias, scale=self.scale
        )  # (N, heads, L, b*b, d)
        y = y.permute(0, 1, 4, 3, 2).reshape(n, c * b * b, -1)  # (N, C*b*b, L)
        y = F.fold(y, (h + pad_h, w + pad_w), b, stride=b)[:, :, :h, :w]  # (N, C, H, W)
        return match_memory_format(y, x)
