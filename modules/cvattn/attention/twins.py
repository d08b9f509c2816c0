"""Locally-grouped self-attention (LSA) and global sub-sampled attention (GSA) of Twins-SVT.

Paper: "Twins: Revisiting the Design of Spatial Attention in Vision Transformers", Xiangxiang Chu, Zhi Tian,
Yuqing Wang, Bo Zhang, Haibing Ren, Xiaolin Wei, Huaxia Xia, Chunhua Shen, NeurIPS 2021,
https://openreview.net/forum?id=5kTlVBkzSRx (arXiv 2104.13840). Official code:
https://github.com/Meituan-AutoML/Twins (``segmentation/gvt.py``: ``GroupAttention``, the dense-prediction LSA
that pads maps which the window does not divide, and ``Attention``, the GSA).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_channels_last, to_channels_last
from .pvt import SpatialReductionAttention

_MASK_VALUE = -1000.0  # the official additive mask between real and padded positions


@register(
    "twins-lsa", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=2, window_size=7, qkv_bias=True
)
class LocallyGroupedAttention(nn.Module):
    """Twins LSA: multi-head self-attention inside non-overlapping ``k x k`` windows.

    The map is zero-padded at the bottom and right to multiples of ``k`` (``k = window_size``) and cut into
    ``k x k`` windows; in each window ``Y = proj(concat_i softmax(Q_i K_i^T * scale + B) V_i)`` with
    ``Q, K, V = X W_qkv`` and ``scale = d^-1/2`` for head dimension ``d = C / heads``. ``B`` is ``-1000``
    between a real and a padded position and ``0`` otherwise, so real pixels do not attend to the padding;
    padded positions are cropped afterwards. Memory grows with ``H*W*k^2`` per head.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: attention heads (official default 8; Twins-SVT-S stages use 2, 4, 8, 16).
        qkv_bias: bias in the query/key/value projection (official default False; the Twins models pass True).
        qk_scale: the attention scale; ``None`` means ``(C / num_heads) ** -0.5`` (official default).
        attn_drop: dropout on the attention weights (official default 0).
        proj_drop: dropout after the output projection (official default 0).
        window_size: window side ``k`` (the official class defaults to 1, i.e. 1 x 1 windows; every Twins-SVT
            model uses 7, the default here).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> lsa = cvattn.create("twins-lsa", channels=64, num_heads=2, window_size=7)
        >>> lsa(torch.randn(2, 64, 13, 17)).shape
        torch.Size([2, 64, 13, 17])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, H*W, C)`` tokens plus ``H, W``. The official
        mask is built with ``mask[:, -pad_b:, :]`` and ``mask[:, :, -pad_r:]``; when only one side needs
        padding the other slice (``-0:``) covers the whole map and the mask vanishes, so real pixels attend to
        the padded (zero-input) tokens. Here the mask always follows the real padding; the two agree whenever
        both or neither of ``H`` and ``W`` need padding.

    Reference:
        Chu et al. Twins: Revisiting the Design of Spatial Attention in Vision Transformers. NeurIPS 2021.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 8,
        qkv_bias: bool = False,
        qk_scale: float | None = None,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
        window_size: int = 7,
    ) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if window_size < 1:
            raise ValueError(f"window_size must be a positive integer, got {window_size}")
        self.channels, self.num_heads, self.window_size = channels, num_heads, window_size
        self.scale = qk_scale or (channels // num_heads) ** -0.5
        self.attn_drop = attn_drop
        self.qkv = nn.Linear(channels, 3 * channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)

    def _windows(self, t: torch.Tensor) -> torch.Tensor:
        """``(N, Hp, Wp, D)`` to ``(N, G, k*k, D)``, windows in row-major order."""
        n, hp, wp, d = t.shape
        k = self.window_size
        t = t.reshape(n, hp // k, k, wp // k, k, d).transpose(2, 3)
        return t.reshape(n, -1, k * k, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h, w = x.shape
        k, heads = self.window_size, self.num_heads
        pad_b, pad_r = (k - h % k) % k, (k - w % k) % k
        hp, wp = h + pad_b, w + pad_r
        t = F.pad(to_channels_last(x), (0, 0, 0, pad_r, 0, pad_b))  # (N, Hp, Wp, C)
        qkv = self.qkv(self._windows(t))  # (N, G, k*k, 3C)
        q, k_, v = qkv.reshape(n, -1, k * k, 3, heads, c // heads).permute(
            3, 0, 1, 4, 2, 5
        )  # (N, G, h, kk, d)
        padded = 1.0 - F.pad(x.new_ones(1, h, w, 1), (0, 0, 0, pad_r, 0, pad_b))  # 1 on padding
        padded = self._windows(padded).squeeze(-1)  # (1, G, k*k)
        bias = (padded[..., None, :] != padded[..., :, None]).to(q.dtype) * _MASK_VALUE  # (1, G, kk, kk)
        drop = self.attn_drop if self.training else 0.0
        context = F.scaled_dot_product_attention(
            q, k_, v, attn_mask=bias[:, :, None], dropout_p=drop, scale=self.scale
        )  # (N, G, h, k*k, d)
        y = context.transpose(2, 3).reshape(n, hp // k, wp // k, k, k, c).transpose(2, 3)
        y = y.reshape(n, hp, wp, c)[:, :h, :w]  # crop the padding: (N, H, W, C)
        y = self.proj_drop(self.proj(y))
        return match_memory_format(from_channels_last(y), x)


@register(
    "twins-gsa", kind="attention", inputs=(128, 14, 14), channels=128, num_heads=4, sr_ratio=4, qkv_bias=True
)
class GlobalSubsampledAttention(SpatialReductionAttention):
    """Twins GSA: every pixel attends to keys and values sub-sampled by an ``s x s`` strided convolution.

    Each ``s x s`` sub-window is summarised by one representative ``LN(Conv_{s x s, stride s}(X))`` and every
    query attends to these representatives (``s = sr_ratio``):
    ``Y = proj(concat_i softmax(Q_i K_i^T * scale) V_i)`` with ``Q = X W_q``, ``K, V`` from the sub-sampled map
    and ``scale = d^-1/2``. Twins-SVT alternates it with LSA so that windows exchange information. The
    computation is that of PVT's spatial-reduction attention (``pvt``), which the official class repeats line
    for line. Memory grows with ``(H*W)^2 / s^2`` per head. When ``H`` or ``W`` is not a multiple of ``s`` the
    strided conv drops the last rows and columns, as the official code does.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: attention heads (official default 8; Twins-SVT-S stages use 2, 4, 8, 16).
        qkv_bias: bias in the query and key/value projections (official default False; the Twins models pass
            True).
        qk_scale: the attention scale; ``None`` means ``(C / num_heads) ** -0.5`` (official default).
        attn_drop: dropout on the attention weights (official default 0).
        proj_drop: dropout after the output projection (official default 0).
        sr_ratio: sub-sampling ratio ``s`` (official default 1; Twins-SVT stages use 8, 4, 2, 1).
        norm_layer: normalisation of the sub-sampled tokens (LayerNorm, fixed in the official code).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> gsa = cvattn.create("twins-gsa", channels=128, num_heads=4, sr_ratio=4)
        >>> gsa(torch.randn(2, 128, 14, 14)).shape
        torch.Size([2, 128, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, H*W, C)`` tokens plus ``H, W``.

    Reference:
        Chu et al. Twins: Revisiting the Design of Spatial Attention in Vision Transformers. NeurIPS 2021.
    """
