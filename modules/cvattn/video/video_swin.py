"""3-D (shifted-)window multi-head self-attention of Video Swin Transformer.

Paper: "Video Swin Transformer", Ze Liu, Jia Ning, Yue Cao, Yixuan Wei, Zheng Zhang, Stephen Lin, Han Hu,
CVPR 2022, https://arxiv.org/abs/2106.13230. Official code: https://github.com/SwinTransformer/Video-Swin-Transformer
(``mmaction/models/backbones/swin_transformer.py``, ``WindowAttention3D``, ``SwinTransformerBlock3D``,
``compute_mask`` and ``BasicLayer``). The 2-D Swin attention of this package is :mod:`cvattn.attention.swin`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..clips import check_clip

SHIFT_MASK_VALUE = -100.0  # the official mask adds -100, not -inf, between tokens of different sub-windows


def _triple(value: int | tuple[int, int, int], name: str) -> tuple[int, int, int]:
    out = (value,) * 3 if isinstance(value, int) else tuple(value)
    if len(out) != 3:
        raise ValueError(f"{name} must be an int or (T, H, W), got {value!r}")
    return out


@fx.wrap
def window_and_shift(
    size: tuple[int, int, int], window: tuple[int, int, int], shift: tuple[int, int, int]
) -> tuple[int, int, int, int, int, int]:
    """The window and shift used on a clip of ``size`` ``(T, H, W)``: on an axis no longer than the window, the
    window shrinks to the clip and the shift is 0 (as the official ``get_window_size``)."""
    fits = [s <= m for s, m in zip(size, window, strict=True)]
    used_window = tuple(s if f else m for s, m, f in zip(size, window, fits, strict=True))
    used_shift = tuple(0 if f else k for k, f in zip(shift, fits, strict=True))
    return used_window + used_shift


@fx.wrap
def relative_position_index_3d(
    used: tuple[int, int, int], window: tuple[int, int, int], device: torch.device
) -> torch.Tensor:
    """``(L, L)`` index, ``L = u_t*u_h*u_w``, of the relative offsets between the tokens of a ``used`` window
    into the ``(2M_t-1)(2M_h-1)(2M_w-1)`` table of the full ``window``."""
    axes = [torch.arange(u, device=device) for u in used]
    coords = torch.stack(torch.meshgrid(*axes, indexing="ij")).flatten(1)  # (3, L), time-major
    rel = coords[:, :, None] - coords[:, None, :]  # (3, L, L)
    rel_t, rel_h, rel_w = (rel[i] + (window[i] - 1) for i in range(3))  # each in [0, 2M-2]
    return (rel_t * (2 * window[1] - 1) + rel_h) * (2 * window[2] - 1) + rel_w


def window_partition_3d(x: torch.Tensor, wt: int, wh: int, ww: int) -> torch.Tensor:
    """``(N, Tp, Hp, Wp, C)`` (multiples of the window) to ``(N, nW, wt*wh*ww, C)`` windows."""
    n, tp, hp, wp, c = x.size(0), x.size(1), x.size(2), x.size(3), x.size(4)
    x = x.reshape(n, tp // wt, wt, hp // wh, wh, wp // ww, ww, c).permute(0, 1, 3, 5, 2, 4, 6, 7)
    return x.reshape(n, (tp // wt) * (hp // wh) * (wp // ww), wt * wh * ww, c)


def window_reverse_3d(
    windows: torch.Tensor, wt: int, wh: int, ww: int, tp: int, hp: int, wp: int
) -> torch.Tensor:
    """``(N, nW, wt*wh*ww, C)`` windows back to the ``(N, Tp, Hp, Wp, C)`` clip."""
    n, c = windows.size(0), windows.size(3)
    x = windows.reshape(n, tp // wt, hp // wh, wp // ww, wt, wh, ww, c).permute(0, 1, 4, 2, 5, 3, 6, 7)
    return x.reshape(n, tp, hp, wp, c)


@fx.wrap
def shift_window_mask_3d(
    padded: tuple[int, int, int], ws: tuple[int, ...], device: torch.device
) -> torch.Tensor:
    """``(nW, L, L)`` additive mask of 3-D SW-MSA on a padded clip rolled by minus the shift: 0 between tokens of
    the same sub-window, -100 between tokens that were not neighbours before the cyclic shift. ``ws`` holds the
    used window and shift (the output of :func:`window_and_shift`)."""
    bands = []
    for size, m, s in zip(padded, ws[:3], ws[3:], strict=True):
        idx = torch.arange(size, device=device)
        # three bands per axis after the roll: [0, P-M), [P-M, P-s), [P-s, P) (one band when s = 0)
        bands.append((idx >= size - m).long() + (idx >= size - s).long() if s > 0 else torch.zeros_like(idx))
    region = 9 * bands[0][:, None, None] + 3 * bands[1][None, :, None] + bands[2][None, None, :]
    region = window_partition_3d(region[None, :, :, :, None], *ws[:3])[0, :, :, 0]  # (nW, L)
    differ = region[:, None, :] != region[:, :, None]
    return torch.zeros(differ.shape, device=device).masked_fill(differ, SHIFT_MASK_VALUE)


@register(
    "video-swin",
    kind="attention",
    inputs=(96, 8, 14, 14),
    channels=96,
    num_heads=3,
    window_size=(8, 7, 7),
)
@register(
    "video-swin-shifted",
    kind="attention",
    inputs=(96, 8, 14, 14),
    channels=96,
    num_heads=3,
    window_size=(8, 7, 7),
    shift_size=(4, 3, 3),
)
class VideoSwinWindowAttention(nn.Module):
    """Video Swin's 3-D (shifted-)window multi-head self-attention with a 3-D relative position bias.

    The clip is padded at the end of time, the bottom and the right to multiples of the window
    ``M_t x M_h x M_w``, optionally rolled by minus the shift ``(s_t, s_h, s_w)`` (3-D SW-MSA), cut into
    non-overlapping 3-D windows, and each window attends to itself:
    ``Attention(Q, K, V) = SoftMax(Q K^T / sqrt(d) + B + A) V`` per head, with ``Q, K, V`` from one linear map
    of the tokens, ``B`` read from a learned ``(2M_t-1)(2M_h-1)(2M_w-1)`` table of relative 3-D offsets, and
    ``A`` the shift mask (-100 between tokens from regions that were not neighbours before the roll). The heads
    are concatenated and projected, the windows put back, the roll undone and the padding cropped. On an axis
    where the clip is no longer than the window, the window shrinks to the clip and that axis is not shifted
    (so short clips attend over all their frames).

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads ``h`` (Swin-T: 3, 6, 12, 24 in its four stages, 32 channels per head).
        window_size: 3-D window ``(M_t, M_h, M_w)`` or one int for all three (official Kinetics models:
            ``(8, 7, 7)``).
        shift_size: cyclic shift ``(s_t, s_h, s_w)``, each in ``[0, M)``; 0 for 3-D W-MSA, ``M // 2`` per axis
            for SW-MSA (official blocks alternate the two).
        qkv_bias: bias in the query/key/value projection (official: True).
        qk_scale: scale of the logits; ``None`` for ``d ** -0.5`` (official: None).
        attn_drop: dropout on the attention weights (official: 0).
        proj_drop: dropout after the output projection (official: 0).

    Shape:
        - Input: ``(N, C, T, H, W)``
        - Output: ``(N, C, T, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> attn = cvattn.create("video-swin-shifted", channels=96, num_heads=3, window_size=(2, 7, 7),
        ...                      shift_size=(1, 3, 3))
        >>> attn(torch.randn(2, 96, 5, 13, 17)).shape
        torch.Size([2, 96, 5, 13, 17])

    Deviations:
        Takes and returns a ``(N, C, T, H, W)`` clip instead of ``(N, T, H, W, C)`` features, and is only the
        attention of a Video Swin block (no LayerNorm, MLP or residual). Where the window shrinks on the
        height or width axis (a map no larger than the window), the bias is read for the true offsets of the
        shrunk window; the official code takes the top-left ``L x L`` corner of the full window's index
        instead, which is the same only when just the time axis shrinks.

    Reference:
        Liu, Ning, Cao, Wei, Zhang, Lin, Hu. Video Swin Transformer. CVPR 2022.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int,
        window_size: int | tuple[int, int, int] = (8, 7, 7),
        shift_size: int | tuple[int, int, int] = 0,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        window, shift = _triple(window_size, "window_size"), _triple(shift_size, "shift_size")
        if not all(m >= 1 and 0 <= s < m for m, s in zip(window, shift, strict=True)):
            raise ValueError(
                f"need window_size >= 1 and 0 <= shift_size < window_size, got {window}, {shift}"
            )
        self.channels, self.num_heads = channels, num_heads
        self.window_size, self.shift_size = window, shift
        self.scale = qk_scale or (channels // num_heads) ** -0.5
        self.attn_drop = attn_drop
        table = (2 * window[0] - 1) * (2 * window[1] - 1) * (2 * window[2] - 1)
        self.relative_position_bias_table = nn.Parameter(torch.zeros(table, num_heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        self.qkv = nn.Linear(channels, 3 * channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_clip(x, self.channels, type(self).__name__)
        n, c, heads = x.size(0), self.channels, self.num_heads
        t, h, w = x.size(2), x.size(3), x.size(4)
        ws = window_and_shift((t, h, w), self.window_size, self.shift_size)
        wt, wh, ww = ws[0], ws[1], ws[2]
        length = wt * wh * ww
        pad_t, pad_b, pad_r = (wt - t % wt) % wt, (wh - h % wh) % wh, (ww - w % ww) % ww
        tp, hp, wp = t + pad_t, h + pad_b, w + pad_r
        z = F.pad(x.permute(0, 2, 3, 4, 1), (0, 0, 0, pad_r, 0, pad_b, 0, pad_t))  # (N, Tp, Hp, Wp, C)
        shifted = any(s > 0 for s in self.shift_size)
        if shifted:
            z = torch.roll(z, shifts=(-ws[3], -ws[4], -ws[5]), dims=(1, 2, 3))
        windows = window_partition_3d(z, wt, wh, ww)  # (N, nW, L, C)
        nw = windows.size(1)
        qkv = self.qkv(windows).reshape(n, nw, length, 3, heads, c // heads).permute(3, 0, 1, 4, 2, 5)
        index = relative_position_index_3d((wt, wh, ww), self.window_size, x.device)
        bias = (
            self.relative_position_bias_table[index.flatten()].reshape(length, length, heads).permute(2, 0, 1)
        )
        # SDPA on 4-D tensors (its fused CPU kernel takes no more), the mask broadcast over the batch
        if shifted:
            q, k, v = (
                qkv.contiguous().reshape(3, n, nw * heads, length, c // heads).unbind(0)
            )  # (N, nW*h, L, d)
            mask = shift_window_mask_3d((tp, hp, wp), ws, x.device)  # (nW, L, L)
            bias = (bias + mask[:, None]).reshape(1, nw * heads, length, length)
        else:
            q, k, v = qkv.reshape(3, n * nw, heads, length, c // heads).unbind(0)  # (N*nW, h, L, d)
        drop = self.attn_drop if self.training else 0.0
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=bias.to(q.dtype), dropout_p=drop, scale=self.scale
        )
        y = y.reshape(n, nw, heads, length, c // heads).transpose(2, 3).reshape(n, nw, length, c)
        y = self.proj_drop(self.proj(y))  # (N, nW, L, C)
        z = window_reverse_3d(y, wt, wh, ww, tp, hp, wp)  # (N, Tp, Hp, Wp, C)
        if shifted:
            z = torch.roll(z, shifts=(ws[3], ws[4], ws[5]), dims=(1, 2, 3))
        return z[:, :t, :h, :w].permute(0, 4, 1, 2, 3).contiguous()
