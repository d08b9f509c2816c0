"""Focused linear attention of the FLatten Transformer.

Paper: "FLatten Transformer: Vision Transformer using Focused Linear Attention", Dongchen Han, Xuran Pan, Yizeng Han,
Shiji Song, Gao Huang, ICCV 2023, https://openaccess.thecvf.com/content/ICCV2023/html/Han_FLatten_Transformer_Vision_Transformer_using_Focused_Linear_Attention_ICCV_2023_paper.html.
Official code: https://github.com/LeapLabTHU/FLatten-Transformer (``models/flatten_swin.py``,
``FocusedLinearAttention``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_channels_last, to_channels_last

EPS = 1e-6  # the official offsets after the ReLU and in the normaliser


def _windows(x: torch.Tensor, m: int) -> torch.Tensor:
    """``(N, Hp, Wp, C)`` (multiples of ``m``) to ``(N * nW, m*m, C)`` windows, row-major."""
    n, hp, wp, c = x.size(0), x.size(1), x.size(2), x.size(3)
    x = x.reshape(n, hp // m, m, wp // m, m, c).permute(0, 1, 3, 2, 4, 5)  # (N, Hp/m, Wp/m, m, m, C)
    return x.reshape(-1, m * m, c)


def _unwindows(t: torch.Tensor, m: int, n: int, hp: int, wp: int) -> torch.Tensor:
    """``(N * nW, m*m, C)`` windows back to the ``(N, Hp, Wp, C)`` map."""
    c = t.size(2)
    x = t.reshape(n, hp // m, wp // m, m, m, c).permute(0, 1, 3, 2, 4, 5)  # (N, Hp/m, m, Wp/m, m, C)
    return x.reshape(n, hp, wp, c)


def _focus(x: torch.Tensor, p: float) -> torch.Tensor:
    """The focusing function ``f_p(x) = ||x|| / ||x^p|| * x^p`` over the channel axis (``x > 0``)."""
    xp = x**p
    return xp * (x.norm(dim=-1, keepdim=True) / xp.norm(dim=-1, keepdim=True))


@register(
    "flatten-transformer", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=2, window_size=7
)
class FocusedLinearAttention(nn.Module):
    """FLatten focused linear attention in ``M x M`` windows, with a depthwise convolution restoring the rank.

    In each window, ``Q, K, V`` come from one linear layer and a learnt position encoding is added to ``K``.
    The kernel ``phi(x) = f_p((ReLU(x) + eps) / softplus(s))`` with a learnt per-channel scale ``s`` and the
    focusing function ``f_p(x) = ||x|| / ||x^p|| * x^p`` (element-wise power ``p``) sharpens the similarity
    without a softmax; per head, ``O_i = phi(q_i) (sum_j phi(k_j)^T v_j) / (phi(q_i) sum_j phi(k_j)^T)``, computed
    as ``phi(Q) (phi(K)^T V)`` in linear time (the official code scales the two sums by ``1/L`` for ``L`` tokens
    and adds ``1e-6`` to the normaliser). A ``k x k`` depthwise convolution of ``V`` (shared by the heads) is
    added: ``Y = proj(O + DWC(V))``. The map is zero-padded to multiples of ``M`` and cropped back. Memory grows
    with ``H*W*C`` plus ``H*W/M^2 * d^2`` per head for the key-value products (head width ``d``).

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads ``h`` (FLatten-Swin-T stages: 3, 6, 12, 24).
        window_size: window side ``M`` (official block default 7; FLatten-Swin sets 56 at 224 px, so that one
            window covers the whole map in its linear-attention stages).
        focusing_factor: power ``p`` of the focusing function (official default 3).
        kernel_size: kernel ``k`` of the depthwise convolution on ``V`` (official default 5).
        qkv_bias: bias in the query/key/value projection (official default True).
        proj_drop: dropout after the output projection.

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> attn = cvattn.create("flatten-transformer", channels=64, num_heads=2, window_size=7)
        >>> attn(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map and partitions it into windows itself; the official attention
        takes the windows ``(N * nW, M*M, C)``. The official classification code requires maps that divide the
        window; here other sizes are zero-padded at the bottom and right as Swin's detection backbone does, and
        the padded tokens take part as keys (the official linear attention takes no mask). The unused
        ``attn_drop`` and ``qk_scale`` arguments of the official class are left out.

    Reference:
        Han, Pan, Han, Song, Huang. FLatten Transformer: Vision Transformer using Focused Linear Attention.
        ICCV 2023.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 8,
        window_size: int = 7,
        focusing_factor: float = 3,
        kernel_size: int = 5,
        qkv_bias: bool = True,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if window_size < 1 or kernel_size < 1 or kernel_size % 2 == 0 or focusing_factor <= 0:
            raise ValueError(
                f"window_size ({window_size}) and an odd kernel_size ({kernel_size}) must be positive, "
                f"focusing_factor ({focusing_factor}) > 0"
            )
        self.channels, self.num_heads, self.window_size = channels, num_heads, window_size
        self.focusing_factor = focusing_factor
        head_dim = channels // num_heads
        self.qkv = nn.Linear(channels, 3 * channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)
        self.dwc = nn.Conv2d(head_dim, head_dim, kernel_size, padding=kernel_size // 2, groups=head_dim)
        self.scale = nn.Parameter(torch.zeros(1, 1, channels))  # s, through softplus
        self.positional_encoding = nn.Parameter(torch.zeros(1, window_size * window_size, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h, w = x.shape
        m, heads = self.window_size, self.num_heads
        pad_b, pad_r = (m - h % m) % m, (m - w % m) % m
        hp, wp = h + pad_b, w + pad_r
        t = _windows(F.pad(to_channels_last(x), (0, 0, 0, pad_r, 0, pad_b)), m)  # (B', L, C), L = M*M
        q, k, v = self.qkv(t).chunk(3, dim=-1)
        k = k + self.positional_encoding
        s = F.softplus(self.scale)
        q = _focus((F.relu(q) + EPS) / s, self.focusing_factor)  # phi(Q)
        k = _focus((F.relu(k) + EPS) / s, self.focusing_factor)  # phi(K)
        q, k, v = (z.unflatten(-1, (heads, c // heads)).transpose(1, 2) for z in (q, k, v))  # (B', h, L, d)
        length = m * m
        z = 1 / (q @ k.mean(dim=-2, keepdim=True).transpose(-2, -1) + EPS)  # (B', h, L, 1)
        kv = (k.transpose(-2, -1) * length**-0.5) @ (v * length**-0.5)  # (B', h, d, d)
        o = (q @ kv * z).transpose(1, 2).flatten(2)  # (B', L, C)
        v_map = v.reshape(-1, m, m, c // heads).permute(0, 3, 1, 2)  # (B' * h, d, M, M)
        o = o + self.dwc(v_map).reshape(-1, c, length).transpose(1, 2)  # O + DWC(V)
        y = self.proj_drop(self.proj(o))
        y = _unwindows(y, m, n, hp, wp)[:, :h, :w]  # (N, H, W, C)
        return match_memory_format(from_channels_last(y), x)
