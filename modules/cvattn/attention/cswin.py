"""Cross-shaped window self-attention with locally-enhanced positional encoding (LePE) of CSWin Transformer.

Paper: "CSWin Transformer: A General Vision Transformer Backbone With Cross-Shaped Windows", Xiaoyi Dong,
Jianmin Bao, Dongdong Chen, Weiming Zhang, Nenghai Yu, Lu Yuan, Dong Chen, Baining Guo, CVPR 2022,
https://arxiv.org/abs/2107.00652. Official code: https://github.com/microsoft/CSWin-Transformer
(``models/cswin.py``; the padding of maps of any size follows ``segmentation/backbone/cswin_transformer.py``,
``LePEAttention`` and ``CSWinBlock``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_channels_last, to_channels_last


@register("cswin", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=2, split_size=7)
class CSWinAttention(nn.Module):
    """CSWin's cross-shaped window attention: half of the heads attend within vertical stripes, half within
    horizontal stripes, and a depthwise convolution of the values adds a local positional term.

    ``Q, K, V`` come from one linear map of the tokens and are split by channels into two halves with
    ``h / 2`` heads each. The first half is cut into vertical stripes of width ``sw`` (full height), the
    second into horizontal stripes of height ``sw`` (full width), after zero-padding ``Q, K, V`` evenly on both
    sides to multiples of ``sw``. Within each stripe, per head,
    ``Attention(Q, K, V) = SoftMax(Q K^T / sqrt(d)) V + DWConv3x3(V)`` (LePE; the convolution sees only the
    stripe), the halves are put back, cropped and concatenated, and a linear layer projects them. With
    ``last_stage`` a single branch with all heads attends over the whole map. Memory grows with
    ``H*W*H*sw`` per vertical-stripe head and ``H*W*W*sw`` per horizontal-stripe head for stripe width ``sw``
    (``(H*W)^2`` per head with ``last_stage``).

    Args:
        channels: channels ``C`` (the embedding dimension; CSWin-T: 64, 128, 256, 512).
        num_heads: heads ``h``, split evenly between the two stripe directions (CSWin-T: 2, 4, 8, 16).
        split_size: stripe width ``sw`` (official block default 7; CSWin-T stages: 1, 2, 7, 7).
        qkv_bias: bias in the query/key/value projection (official models: True).
        qk_scale: scale of the logits; ``None`` for ``d ** -0.5`` (official: None).
        last_stage: one branch of full attention with all heads, as in the last stage, where the stripe
            covers the whole map (official: False).
        attn_drop: dropout on the attention weights (official: 0).
        proj_drop: dropout after the output projection (official: 0).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> attn = cvattn.create("cswin", channels=64, num_heads=2, split_size=7)
        >>> attn(torch.randn(2, 64, 13, 17)).shape
        torch.Size([2, 64, 13, 17])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, L, C)`` tokens, and is only the attention of
        a CSWin block (no LayerNorm, MLP or residual). Maps of any size are handled as in the official
        segmentation backbone (even zero padding of ``Q, K, V``, stripes spanning the actual height or width);
        the official classification code assumes square maps that the stripe divides.

    Reference:
        Dong, Bao, Chen, Zhang, Yu, Yuan, Chen, Guo. CSWin Transformer: A General Vision Transformer Backbone
        With Cross-Shaped Windows. CVPR 2022.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int,
        split_size: int = 7,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        last_stage: bool = False,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        branches = 1 if last_stage else 2
        if num_heads < 1 or num_heads % branches or channels % num_heads:
            raise ValueError(
                f"channels ({channels}) must be divisible by num_heads ({num_heads}), and num_heads by {branches}"
            )
        if split_size < 1:
            raise ValueError(f"split_size must be positive, got {split_size}")
        self.channels, self.num_heads, self.split_size = channels, num_heads, split_size
        self.last_stage = last_stage
        self.scale = qk_scale or (channels // num_heads) ** -0.5
        self.attn_drop = attn_drop
        self.qkv = nn.Linear(channels, 3 * channels, bias=qkv_bias)
        width = channels // branches
        self.lepe = nn.ModuleList(
            nn.Conv2d(width, width, 3, padding=1, groups=width) for _ in range(branches)
        )
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)

    def _stripe_attention(self, qkv: torch.Tensor, lepe: nn.Module, sh, sw) -> torch.Tensor:
        """Attention within ``sh x sw`` stripes of ``qkv`` ``(N, H, W, 3, C')``; returns ``(N, H, W, C')``."""
        n, h, w, cb = qkv.size(0), qkv.size(1), qkv.size(2), qkv.size(4)
        heads = self.num_heads if self.last_stage else self.num_heads // 2
        d = cb // heads
        pad_h, pad_w = (sh - h % sh) % sh, (sw - w % sw) % sw
        top, left = pad_h // 2, pad_w // 2
        qkv = F.pad(qkv, (0, 0, 0, 0, left, pad_w - left, top, pad_h - top))  # (N, Hp, Wp, 3, C')
        hp, wp = h + pad_h, w + pad_w
        qkv = qkv.reshape(n, hp // sh, sh, wp // sw, sw, 3, heads, d)
        qkv = qkv.permute(5, 0, 1, 3, 6, 2, 4, 7).reshape(3, -1, heads, sh * sw, d)
        q, k, v = qkv.unbind(0)  # (N*nS, h', sh*sw, d) each, nS stripes per map
        pos = lepe(v.transpose(2, 3).reshape(-1, cb, sh, sw))  # LePE within each stripe: (N*nS, C', sh, sw)
        pos = pos.reshape(-1, heads, d, sh * sw).transpose(2, 3)
        drop = self.attn_drop if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, scale=self.scale) + pos
        y = y.reshape(n, hp // sh, wp // sw, heads, sh, sw, d).permute(
            0, 1, 4, 2, 5, 3, 6
        )  # (N, .., sh, .., sw, h', d)
        return y.reshape(n, hp, wp, cb)[:, top : top + h, left : left + w]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h, w = x.size(0), self.channels, x.size(2), x.size(3)
        z = to_channels_last(x)  # (N, H, W, C)
        qkv = self.qkv(z).reshape(n, h, w, 3, c)
        if self.last_stage:
            y = self._stripe_attention(qkv, self.lepe[0], h, w)
        else:
            half = c // 2
            y = torch.cat(
                (
                    self._stripe_attention(qkv[..., :half], self.lepe[0], h, self.split_size),  # vertical
                    self._stripe_attention(qkv[..., half:], self.lepe[1], self.split_size, w),  # horizontal
                ),
                dim=-1,
            )
        y = self.proj_drop(self.proj(y))  # (N, H, W, C)
        return match_memory_format(from_channels_last(y), x)
