"""Window and shifted-window multi-head self-attention (W-MSA, SW-MSA) of Swin Transformer.

Paper: "Swin Transformer: Hierarchical Vision Transformer Using Shifted Windows", Ze Liu, Yutong Lin, Yue Cao,
Han Hu, Yixuan Wei, Zheng Zhang, Stephen Lin, Baining Guo, ICCV 2021, https://arxiv.org/abs/2103.14030.
Official code: https://github.com/microsoft/Swin-Transformer (``models/swin_transformer.py``, ``WindowAttention``
and ``SwinTransformerBlock``); the padding of maps that do not divide the window follows the official dense
prediction code, https://github.com/SwinTransformer/Swin-Transformer-Object-Detection
(``mmdet/models/backbones/swin_transformer.py``, ``SwinTransformerBlock`` and ``BasicLayer``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import to_channels_last

SHIFT_MASK_VALUE = -100.0  # the official mask adds -100, not -inf, between tokens of different sub-windows


def relative_position_index(window_size: int) -> torch.Tensor:
    """``(M*M, M*M)`` index into the ``(2M-1)^2`` table of relative offsets between the tokens of a window."""
    coords = torch.stack(torch.meshgrid(torch.arange(window_size), torch.arange(window_size), indexing="ij"))
    coords = coords.flatten(1)  # (2, M*M), row-major
    rel = coords[:, :, None] - coords[:, None, :] + (window_size - 1)  # (2, M*M, M*M), each in [0, 2M-2]
    return rel[0] * (2 * window_size - 1) + rel[1]


@fx.wrap
def pad_to_windows(x: torch.Tensor, window_size: int) -> torch.Tensor:
    """``(N, H, W, C)`` padded with zeros at the bottom and right to multiples of ``M``; ``x`` itself when both
    sides already are (a leaf for torch.fx: the test reads the size)."""
    m = window_size
    pad_b, pad_r = (m - x.size(1) % m) % m, (m - x.size(2) % m) % m
    return F.pad(x, (0, 0, 0, pad_r, 0, pad_b)) if pad_b or pad_r else x


def window_partition(x: torch.Tensor, window_size: int) -> torch.Tensor:
    """``(N, Hp, Wp, C)`` (Hp, Wp multiples of ``M``) to ``(N, nW, M*M, C)`` windows, row-major in both."""
    n, hp, wp, c = x.size(0), x.size(1), x.size(2), x.size(3)
    m = window_size
    x = x.reshape(n, hp // m, m, wp // m, m, c).permute(0, 1, 3, 2, 4, 5)  # (N, Hp/M, Wp/M, M, M, C)
    return x.reshape(n, (hp // m) * (wp // m), m * m, c)


def window_reverse(windows: torch.Tensor, window_size: int, hp: int, wp: int) -> torch.Tensor:
    """``(N, nW, M*M, C)`` windows back to the ``(N, Hp, Wp, C)`` map."""
    n, c, m = windows.size(0), windows.size(3), window_size
    x = windows.reshape(n, hp // m, wp // m, m, m, c).permute(0, 1, 3, 2, 4, 5)  # (N, Hp/M, M, Wp/M, M, C)
    return x.reshape(n, hp, wp, c)


@fx.wrap
def shift_window_mask(hp: int, wp: int, window_size: int, shift: int, device: torch.device) -> torch.Tensor:
    """``(nW, M*M, M*M)`` additive mask of SW-MSA on a padded ``Hp x Wp`` map rolled by ``-shift``: 0 between
    tokens of the same sub-window, -100 between tokens that were not adjacent before the cyclic shift."""
    rows = torch.arange(hp, device=device)
    cols = torch.arange(wp, device=device)
    # three bands per axis after the roll: [0, Hp-M), [Hp-M, Hp-s), [Hp-s, Hp)
    band_h = (rows >= hp - window_size).long() + (rows >= hp - shift).long()
    band_w = (cols >= wp - window_size).long() + (cols >= wp - shift).long()
    region = (3 * band_h[:, None] + band_w[None, :])[None, :, :, None]  # (1, Hp, Wp, 1)
    region = window_partition(region, window_size)[0, :, :, 0]  # (nW, M*M)
    differ = region[:, None, :] != region[:, :, None]
    return torch.zeros(differ.shape, device=device).masked_fill(differ, SHIFT_MASK_VALUE)


@register("swin", kind="attention", inputs=(96, 14, 14), channels=96, num_heads=3, window_size=7)
@register(
    "swin-shifted",
    kind="attention",
    inputs=(96, 14, 14),
    channels=96,
    num_heads=3,
    window_size=7,
    shift_size=3,
)
class SwinWindowAttention(nn.Module):
    """Swin Transformer's (shifted-)window multi-head self-attention with a relative position bias.

    The map is padded at the bottom and right to multiples of the window ``M``, optionally rolled by
    ``(-s, -s)`` (SW-MSA), cut into non-overlapping ``M x M`` windows, and each window attends to itself:
    ``Attention(Q, K, V) = SoftMax(Q K^T / sqrt(d) + B + A) V`` per head, with ``Q, K, V`` from one linear
    map of the tokens, ``B`` read from a learned ``(2M-1) x (2M-1)`` table of relative offsets, and ``A`` the
    shift mask (-100 between tokens that come from regions that were not adjacent before the roll, 0 when
    ``s = 0``). The heads are concatenated and projected, the windows put back, the roll undone and the
    padding cropped. Memory grows with ``H*W*M^2`` per head for window ``M``.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads ``h`` (Swin-T: 3, 6, 12, 24 in its four stages, 32 channels per head).
        window_size: window side ``M`` (official: 7).
        shift_size: cyclic shift ``s`` in ``[0, M)``; 0 for W-MSA, ``M // 2`` for SW-MSA (official blocks
            alternate 0 and ``M // 2``).
        qkv_bias: bias in the query/key/value projection (official: True).
        qk_scale: scale of the logits; ``None`` for ``d ** -0.5`` (official: None).
        attn_drop: dropout on the attention weights (official: 0).
        proj_drop: dropout after the output projection (official: 0).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> attn = cvattn.create("swin-shifted", channels=96, num_heads=3, window_size=7)
        >>> attn(torch.randn(2, 96, 13, 17)).shape
        torch.Size([2, 96, 13, 17])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of windows of ``(N, L, C)`` tokens, and is only the
        attention of a Swin block (no LayerNorm, MLP or residual). Maps that do not divide the window are
        zero-padded at the bottom and right and cropped back, as in the official detection and segmentation
        backbones; the official classification block instead shrinks the window to a map smaller than it and
        requires a size that divides the window.

    Reference:
        Liu, Lin, Cao, Hu, Wei, Zhang, Lin, Guo. Swin Transformer: Hierarchical Vision Transformer Using
        Shifted Windows. ICCV 2021.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int,
        window_size: int = 7,
        shift_size: int = 0,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if window_size < 1 or not 0 <= shift_size < window_size:
            raise ValueError(
                f"need window_size >= 1 and 0 <= shift_size < window_size, got {window_size}, {shift_size}"
            )
        self.channels, self.num_heads = channels, num_heads
        self.window_size, self.shift_size = window_size, shift_size
        self.scale = qk_scale or (channels // num_heads) ** -0.5
        self.attn_drop = attn_drop
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window_size - 1) ** 2, num_heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        self.register_buffer(
            "relative_position_index", relative_position_index(window_size), persistent=False
        )
        self.qkv = nn.Linear(channels, 3 * channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)

    def relative_position_bias(self) -> torch.Tensor:
        """``B``: ``(h, M*M, M*M)``."""
        length = self.window_size**2
        bias = self.relative_position_bias_table[self.relative_position_index.flatten()]  # (L*L, h)
        return bias.reshape(length, length, self.num_heads).permute(2, 0, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h, w = x.size(0), self.channels, x.size(2), x.size(3)
        m, s, heads = self.window_size, self.shift_size, self.num_heads
        z = pad_to_windows(to_channels_last(x), m)  # (N, Hp, Wp, C)
        hp, wp = z.size(1), z.size(2)
        if s > 0:
            z = torch.roll(z, shifts=(-s, -s), dims=(1, 2))
        windows = window_partition(z, m)  # (N, nW, M*M, C)
        qkv = self.qkv(windows).reshape(n, -1, m * m, 3, heads, c // heads)
        q, k, v = qkv.permute(3, 0, 1, 4, 2, 5).unbind(0)  # 3 x (N, nW, h, M*M, d)
        bias = self.relative_position_bias()  # (h, M*M, M*M)
        if s > 0:
            bias = bias + shift_window_mask(hp, wp, m, s, x.device)[:, None]  # (nW, h, M*M, M*M)
        # written out rather than SDPA with a mask: on CPU a masked SDPA takes its reference path, whose extra
        # guard against fully masked rows costs more than the whole attention of a small window
        attn = (q * self.scale) @ k.transpose(-2, -1) + bias.to(q.dtype)
        attn = F.dropout(attn.softmax(-1), self.attn_drop, self.training)
        y = self.proj_drop(self.proj((attn @ v).transpose(2, 3).reshape(n, -1, m * m, c)))  # (N, nW, M*M, C)
        # windows straight back to (N, C, Hp, Wp): one copy
        y = y.reshape(n, hp // m, wp // m, m, m, c).permute(0, 5, 1, 3, 2, 4).reshape(n, c, hp, wp)
        if s > 0:
            y = torch.roll(y, shifts=(s, s), dims=(2, 3))
        return match_memory_format(y[:, :, :h, :w], x)
