"""Bi-level routing attention (BRA) of BiFormer.

Paper: "BiFormer: Vision Transformer with Bi-Level Routing Attention", Lei Zhu, Xinjiang Wang, Zhanghan Ke, Wayne
Zhang, Rynson W.H. Lau, CVPR 2023, https://openaccess.thecvf.com/content/CVPR2023/html/Zhu_BiFormer_Vision_Transformer_With_Bi-Level_Routing_Attention_CVPR_2023_paper.html.
Official code: https://github.com/rayleizhu/BiFormer (``ops/bra_legacy.py``, ``BiLevelRoutingAttention``, the plain
PyTorch implementation used by ``models/biformer.py``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_channels_last, to_channels_last


def _regions(t: torch.Tensor, p: int, rh: int, rw: int) -> torch.Tensor:
    """``(N, p*rh, p*rw, C)`` to ``(N, p*p, rh*rw, C)``: the ``p x p`` regions, row-major, pixels row-major."""
    n, c = t.size(0), t.size(3)
    return t.reshape(n, p, rh, p, rw, c).permute(0, 1, 3, 2, 4, 5).reshape(n, p * p, rh * rw, c)


def _unregions(t: torch.Tensor, p: int, rh: int, rw: int) -> torch.Tensor:
    """``(N, p*p, rh*rw, C)`` back to ``(N, p*rh, p*rw, C)``."""
    n, c = t.size(0), t.size(3)
    return t.reshape(n, p, p, rh, rw, c).permute(0, 1, 3, 2, 4, 5).reshape(n, p * rh, p * rw, c)


@register("biformer", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=2, n_win=7, topk=4)
class BiLevelRoutingAttention(nn.Module):
    """BiFormer BRA: route each region to its top-k regions, then attend to the pixels of those regions only.

    The map is split into ``S x S`` regions (``S = n_win``; zero-padded at the bottom and right to a multiple
    of ``S``). Region-level queries and keys are the means of ``Q`` and ``K`` over each region; the region
    adjacency ``A^r = Q^r (K^r)^T`` keeps, for every region, the indices ``I^r`` of its ``k`` largest entries
    (``topk``; no gradient flows through the routing). Every pixel of region ``i`` then attends with softmax
    to the keys and values of the ``k`` regions ``I^r_i`` gathered together,
    ``O = softmax(Q K_g^T * qk_dim^-1/2) V_g``, and a depthwise convolution of ``V`` (LCE) is added:
    ``Y = W_o(O + LCE(V))``. Memory grows with ``H*W * k*H*W/S^2`` per head for ``S x S`` regions (with ``S``
    fixed, quadratic in ``H*W``; BiFormer picks ``S`` per stage).

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads ``h`` (BiFormer: ``C / 32``).
        n_win: regions per side ``S`` (official default 7).
        topk: regions ``k`` each region attends to (official default 4; BiFormer-T/S/B stages: 1, 4, 16, and
            full attention in the last).
        qk_dim: channels of queries and keys (None: ``C``, as in every BiFormer).
        qk_scale: logit scale (None: ``qk_dim^-1/2``, as the official code, not the per-head width).
        side_dwconv: kernel of the depthwise LCE convolution on ``V``, 0 for none (official default 3; the
            BiFormer models use 5).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> bra = cvattn.create("biformer", channels=64, num_heads=2, n_win=7, topk=4)
        >>> bra(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, H, W, C)``, and always pads as the official
        ``auto_pad=True`` does (padded pixels take part as keys and in the LCE; the output is cropped). Only the
        configuration the BiFormer models use is provided: no key/value downsampling, non-differentiable hard
        routing without routing weights, and the output projection (``param_attention='qkvo'``).

    Reference:
        Zhu, Wang, Ke, Zhang, Lau. BiFormer: Vision Transformer with Bi-Level Routing Attention. CVPR 2023.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 8,
        n_win: int = 7,
        topk: int = 4,
        qk_dim: int | None = None,
        qk_scale: float | None = None,
        side_dwconv: int = 3,
    ) -> None:
        super().__init__()
        qk_dim = qk_dim or channels
        if channels % num_heads or qk_dim % num_heads:
            raise ValueError(
                f"channels ({channels}) and qk_dim ({qk_dim}) must be divisible by num_heads ({num_heads})"
            )
        if n_win < 1 or not 1 <= topk <= n_win * n_win:
            raise ValueError(f"need n_win >= 1 and 1 <= topk <= n_win^2, got n_win={n_win}, topk={topk}")
        if side_dwconv < 0 or (side_dwconv and side_dwconv % 2 == 0):
            raise ValueError(f"side_dwconv must be 0 or odd, got {side_dwconv}")
        self.channels, self.num_heads, self.n_win, self.topk, self.qk_dim = (
            channels,
            num_heads,
            n_win,
            topk,
            qk_dim,
        )
        self.scale = qk_scale or qk_dim**-0.5
        self.qkv = nn.Linear(channels, 2 * qk_dim + channels)  # q, k (qk_dim each) and v (C)
        self.wo = nn.Linear(channels, channels)
        self.lepe = (
            nn.Conv2d(channels, channels, side_dwconv, padding=side_dwconv // 2, groups=channels)
            if side_dwconv
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h, w = x.shape
        s, heads, qk, k_regions = self.n_win, self.num_heads, self.qk_dim, self.topk
        pad_b, pad_r = (s - h % s) % s, (s - w % s) % s
        rh, rw = (h + pad_b) // s, (w + pad_r) // s  # region size
        z = F.pad(to_channels_last(x), (0, 0, 0, pad_r, 0, pad_b))  # (N, Hp, Wp, C)
        q, k, v = self.qkv(z).split([qk, qk, c], dim=-1)
        q_pix, k_pix, v_pix = (_regions(t, s, rh, rw) for t in (q, k, v))  # (N, S^2, rh*rw, ch)

        # region-to-region routing: top-k of the adjacency of region means (not differentiated)
        q_r, k_r = q_pix.mean(2).detach(), k_pix.mean(2).detach()  # (N, S^2, qk)
        adjacency = (q_r * self.scale) @ k_r.transpose(-2, -1)  # A^r: (N, S^2, S^2)
        idx = adjacency.topk(k_regions, dim=-1).indices  # I^r: (N, S^2, k)

        def gather(t: torch.Tensor) -> torch.Tensor:  # (N, S^2, L, ch) -> (N * S^2, heads, k*L, ch/heads)
            length, ch = t.size(2), t.size(3)
            index = idx[..., None, None].expand(-1, -1, -1, length, ch)
            picked = torch.gather(
                t.unsqueeze(1).expand(-1, s * s, -1, -1, -1), 2, index
            )  # (N, S^2, k, L, ch)
            return picked.reshape(-1, k_regions * length, heads, ch // heads).transpose(1, 2)

        q_h = q_pix.reshape(n * s * s, -1, heads, qk // heads).transpose(
            1, 2
        )  # (N * S^2, heads, L, qk/heads)
        o = F.scaled_dot_product_attention(q_h, gather(k_pix), gather(v_pix), scale=self.scale)
        o = _unregions(o.transpose(1, 2).reshape(n, s * s, rh * rw, c), s, rh, rw)  # (N, Hp, Wp, C)
        if self.lepe is not None:
            o = o + to_channels_last(self.lepe(from_channels_last(v)))  # + LCE(V)
        y = self.wo(o)[:, :h, :w]  # (N, H, W, C)
        return match_memory_format(from_channels_last(y), x)
