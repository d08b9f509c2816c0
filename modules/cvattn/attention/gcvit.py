"""Global context self-attention of GC ViT.

Paper: "Global Context Vision Transformers", Ali Hatamizadeh, Hongxu Yin, Greg Heinrich, Jan Kautz, Pavlo Molchanov,
ICML 2023, https://proceedings.mlr.press/v202/hatamizadeh23a.html (arXiv 2206.09959). Official code:
https://github.com/NVlabs/GCVit (``models/gc_vit.py`` and, for maps of any size, ``detection/models/gc_vit.py``:
``GlobalQueryGen``, ``FeatExtract``, ``WindowAttentionGlobal``, ``GCViTBlock``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import attend, check_input, match_memory_format
from ..tokens import from_channels_last, to_channels_last, to_tokens


def _pad_amount(size: int, window: int) -> int:
    """Zeros to append so that ``size`` becomes a multiple of ``window``."""
    return (window - size % window) % window


def _relative_position_index(window: int) -> torch.Tensor:
    """``(M^2, M^2)`` index into the ``(2M - 1)^2`` relative-position table, for every query/key pair."""
    coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
    rel = coords[:, :, None] - coords[:, None, :] + (window - 1)  # (2, M^2, M^2), offsets from 0
    return rel[0] * (2 * window - 1) + rel[1]


class _SqueezeExcite(nn.Module):
    """GC ViT's squeeze-excitation: global average, Linear-GELU-Linear (no biases, ratio 1/4), sigmoid gate."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        hidden = int(channels * 0.25)
        self.fc = nn.Sequential(
            nn.Linear(channels, hidden, bias=False),
            nn.GELU(),
            nn.Linear(hidden, channels, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.fc(x.mean((2, 3)))[:, :, None, None]


class _FeatExtract(nn.Module):
    """One step of the global query generator: ``x + PW(SE(GELU(DW3x3(x))))``, then a 3x3/2 max-pool if ``pool``."""

    def __init__(self, channels: int, pool: bool) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, groups=channels, bias=False),
            nn.GELU(),
            _SqueezeExcite(channels),
            nn.Conv2d(channels, channels, 1, bias=False),
        )
        self.pool = nn.MaxPool2d(3, 2, 1) if pool else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x + self.conv(x))


@register(
    "gcvit", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=2, window_size=7, num_pools=1
)
class GlobalContextAttention(nn.Module):
    """GC ViT global context attention: global queries, computed once from the whole map, attend inside every window.

    A global query generator of ``k`` steps ``x <- MaxPool(x + PW(SE(GELU(DW(x)))))`` (one step without pooling
    when ``k = 0``) shrinks the map to an ``M x M`` grid of global tokens ``q_g`` (the paper chooses
    ``k = log2(H / M)``; other sizes are resized bicubically to ``M x M``), split into ``h`` heads of ``d``.
    The map is zero-padded at the bottom and right to a multiple of ``M`` and cut into ``M x M`` windows whose
    tokens give keys and values; in every window ``A = softmax(q_g k^T / sqrt(d) + B)`` with ``B`` the relative
    position bias (a ``(2M-1)^2 x h`` table), ``out = W_o (A v)``, cropped back to ``H x W``. The same global
    queries serve every window, so each window is read in the light of the whole image. Memory grows with
    ``H*W*M^2`` per head for window ``M``.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads ``h`` (GC ViT: ``C / 32``, e.g. 2, 4, 8, 16).
        window_size: window ``M`` (GC ViT: 7, or 14 in the third stage of some models).
        num_pools: pooling steps ``k`` of the global query generator (GC ViT stages at 224 pixels: 3, 2, 0
            and 0, so that the output is ``M x M``).
        qkv_bias: bias in the key/value projection (GC ViT: True).
        attn_drop: dropout on the attention weights (0).
        proj_drop: dropout after the output projection (0).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> gca = cvattn.create("gcvit", channels=64, num_heads=2, window_size=7, num_pools=1)
        >>> gca(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, H, W, C)`` tokens with a separately generated
        global query: this module holds its query generator (in GC ViT one generator per stage serves all its
        blocks) and feeds it the same map as the keys and values, whereas the official block feeds the
        generator the stage input and the keys and values its LayerNorm (normalise the input outside if wanted).
        The number of pooling steps is an argument instead of being derived from the stage and image
        resolutions. Maps that are not ``M 2^k`` square are padded and their global tokens resized as in the
        official detection backbone; the classification model accepts only those sizes.

    Reference:
        Hatamizadeh, Yin, Heinrich, Kautz, Molchanov. Global Context Vision Transformers. ICML 2023.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 2,
        window_size: int = 7,
        num_pools: int = 1,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if window_size < 1 or num_pools < 0:
            raise ValueError(f"window_size ({window_size}) must be >= 1 and num_pools ({num_pools}) >= 0")
        self.channels, self.num_heads, self.window_size = channels, num_heads, window_size
        self.scale = (channels // num_heads) ** -0.5
        self.attn_drop = attn_drop
        steps = [_FeatExtract(channels, pool=True) for _ in range(num_pools)] or [
            _FeatExtract(channels, False)
        ]
        self.q_global = nn.Sequential(*steps)
        self.kv = nn.Linear(channels, 2 * channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)
        self.relative_position_bias_table = nn.Parameter(
            nn.init.trunc_normal_(torch.zeros((2 * window_size - 1) ** 2, num_heads), std=0.02)
        )
        self.register_buffer(
            "relative_position_index", _relative_position_index(window_size), persistent=False
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, m, h = x.size(0), self.channels, self.window_size, self.num_heads
        d = c // h
        # global queries: (N, C, M, M) grid -> (N, 1, h, M^2, d), shared by every window
        q_map = F.interpolate(self.q_global(x), size=(m, m), mode="bicubic")  # identity when already M x M
        q = to_tokens(q_map).reshape(n, 1, m * m, h, d).transpose(2, 3)
        # keys and values from the zero-padded map's M x M windows
        t = to_channels_last(x)  # (N, H, W, C)
        height, width = x.shape[-2], x.shape[-1]
        t = F.pad(t, (0, 0, 0, _pad_amount(width, m), 0, _pad_amount(height, m)))
        hp, wp = t.shape[1], t.shape[2]
        windows = t.reshape(n, hp // m, m, wp // m, m, c).transpose(2, 3).reshape(n, -1, m * m, c)
        kv = self.kv(windows).reshape(n, -1, m * m, 2, h, d)
        k, v = kv.permute(3, 0, 1, 4, 2, 5).unbind(0)  # 2 x (N, nW, h, M^2, d)
        bias = self.relative_position_bias_table[self.relative_position_index]  # (M^2, M^2, h)
        drop = self.attn_drop if self.training else 0.0
        # q broadcasts over the windows: (N, 1, h, M^2, d) against (N, nW, h, M^2, d)
        y = attend(q, k, v, bias.permute(2, 0, 1).to(k.dtype), scale=self.scale, dropout_p=drop)
        y = self.proj_drop(self.proj(y.transpose(2, 3).reshape(n, -1, m * m, c)))  # (N, nW, M^2, C)
        y = y.reshape(n, hp // m, wp // m, m, m, c).transpose(2, 3).reshape(n, hp, wp, c)
        return match_memory_format(from_channels_last(y[:, :height, :width]), x)
