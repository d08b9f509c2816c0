"""HiLo attention of LITv2.

Paper: "Fast Vision Transformers with HiLo Attention", Zizheng Pan, Jianfei Cai, Bohan Zhuang, NeurIPS 2022,
https://arxiv.org/abs/2205.13213. Official code: https://github.com/ziplab/LITv2 (``hilo.py`` and, with the
padding for arbitrary sizes, ``detection/mmdet/models/backbones/litv2.py``, ``HiLo``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_channels_last, to_channels_last, to_tokens


@register("litv2", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=8, window_size=2, alpha=0.5)
class HiLo(nn.Module):
    """LITv2 HiLo attention: Hi-Fi heads attend inside ``s x s`` windows, Lo-Fi heads attend to window averages.

    The heads are split: ``alpha * num_heads`` Lo-Fi heads and the rest Hi-Fi heads, each of width
    ``d = C / num_heads``. Hi-Fi heads compute ``softmax(q k^T * scale) v`` inside every non-overlapping
    ``s x s`` window (high frequencies, local detail). Lo-Fi heads take queries from every position and keys and
    values from the ``s x s`` average-pooled map (low frequencies, global structure). Each group has its own
    output projection and the two results are concatenated along the channels (Hi-Fi first). Maps whose sides
    do not divide ``s`` are zero-padded at the bottom and right and cropped back; ``s = 1`` is plain global
    multi-head self-attention. Memory grows with ``(H*W)^2 / s^2`` per Lo-Fi head and ``H*W*s^2`` per Hi-Fi head.

    Args:
        channels: channels ``C``.
        num_heads: total heads (8).
        qkv_bias: bias in the query, key and value projections (False).
        qk_scale: attention scale; ``None`` gives ``d ** -0.5`` (None).
        window_size: window side ``s`` of the Hi-Fi heads and pooling size of the Lo-Fi keys and values (2).
        alpha: share of Lo-Fi heads, rounded down (0.5; the LITv2 models use 0.9).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> hilo = cvattn.create("litv2", channels=64, num_heads=8, window_size=2, alpha=0.5)
        >>> hilo(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, H*W, C)`` tokens plus ``H, W``. The official
        ``attn_drop`` and ``proj_drop`` arguments are accepted by the official class but never used; they are
        left out.

    Reference:
        Pan, Cai, Zhuang. Fast Vision Transformers with HiLo Attention. NeurIPS 2022.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 8,
        qkv_bias: bool = False,
        qk_scale: float | None = None,
        window_size: int = 2,
        alpha: float = 0.5,
    ) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if window_size < 1 or not 0.0 <= alpha <= 1.0:
            raise ValueError(f"need window_size >= 1 and 0 <= alpha <= 1, got {window_size}, {alpha}")
        head_dim = channels // num_heads
        self.channels, self.ws, self.head_dim = channels, window_size, head_dim
        self.l_heads = num_heads if window_size == 1 else int(num_heads * alpha)
        self.h_heads = num_heads - self.l_heads
        self.l_dim, self.h_dim = self.l_heads * head_dim, self.h_heads * head_dim
        self.scale = qk_scale or head_dim**-0.5
        if self.l_heads > 0:
            self.l_q = nn.Linear(channels, self.l_dim, bias=qkv_bias)
            self.l_kv = nn.Linear(channels, 2 * self.l_dim, bias=qkv_bias)
            self.l_proj = nn.Linear(self.l_dim, self.l_dim)
        if self.h_heads > 0:
            self.h_qkv = nn.Linear(channels, 3 * self.h_dim, bias=qkv_bias)
            self.h_proj = nn.Linear(self.h_dim, self.h_dim)

    def _hifi(self, t: torch.Tensor, n: int, hp: int, wp: int) -> torch.Tensor:
        """Window attention of the Hi-Fi heads on the padded ``(N, H', W', C)`` map."""
        s, gh, gw = self.ws, hp // self.ws, wp // self.ws
        t = t.reshape(n, gh, s, gw, s, self.channels).transpose(2, 3)  # (N, gh, gw, s, s, C)
        qkv = self.h_qkv(t).reshape(n, gh * gw, s * s, 3, self.h_heads, self.head_dim)
        q, k, v = qkv.permute(3, 0, 1, 4, 2, 5)  # each (N, windows, heads, s^2, d)
        y = F.scaled_dot_product_attention(q, k, v, scale=self.scale)
        y = (
            y.transpose(2, 3)
            .reshape(n, gh, gw, s, s, self.h_dim)
            .transpose(2, 3)
            .reshape(n, hp, wp, self.h_dim)
        )
        return self.h_proj(y)

    def _lofi(self, t: torch.Tensor, n: int, hp: int, wp: int) -> torch.Tensor:
        """Attention of the Lo-Fi heads from every position to the window averages."""
        q = self.l_q(t).reshape(n, hp * wp, self.l_heads, self.head_dim).transpose(1, 2)  # (N, heads, HW, d)
        pooled = from_channels_last(t)
        if self.ws > 1:
            pooled = F.avg_pool2d(pooled, self.ws)
        kv = self.l_kv(to_tokens(pooled)).reshape(n, -1, 2, self.l_heads, self.head_dim)
        k, v = kv.permute(2, 0, 3, 1, 4)  # each (N, heads, HW / s^2, d)
        y = F.scaled_dot_product_attention(q, k, v, scale=self.scale)
        return self.l_proj(y.transpose(1, 2).reshape(n, hp, wp, self.l_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, h, w, s = x.size(0), x.size(2), x.size(3), self.ws
        pad_b, pad_r = (s - h % s) % s, (s - w % s) % s
        t = F.pad(to_channels_last(x), (0, 0, 0, pad_r, 0, pad_b))  # (N, H', W', C)
        hp, wp = h + pad_b, w + pad_r
        outs = []
        if self.h_heads > 0:
            outs.append(self._hifi(t, n, hp, wp))
        if self.l_heads > 0:
            outs.append(self._lofi(t, n, hp, wp))
        y = torch.cat(outs, dim=-1)[:, :h, :w]  # (N, H, W, C)
        return match_memory_format(from_channels_last(y), x)
