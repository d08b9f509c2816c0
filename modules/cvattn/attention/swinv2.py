"""Scaled cosine window attention with a log-spaced continuous position bias, of Swin Transformer V2.

Paper: "Swin Transformer V2: Scaling Up Capacity and Resolution", Ze Liu, Han Hu, Yutong Lin, Zhuliang Yao,
Zhenda Xie, Yixuan Wei, Jia Ning, Yue Cao, Zheng Zhang, Li Dong, Furu Wei, Baining Guo, CVPR 2022,
https://arxiv.org/abs/2111.09883. Official code: https://github.com/microsoft/Swin-Transformer
(``models/swin_transformer_v2.py``, ``WindowAttention`` and ``SwinTransformerBlock``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import attend, check_input, match_memory_format
from ..tokens import from_channels_last, to_channels_last
from .swin import relative_position_index, shift_window_mask, window_partition, window_reverse

fx.wrap("shift_window_mask")  # a leaf for torch.fx here too: it builds the mask from the padded size

MAX_LOGIT_SCALE = math.log(1.0 / 0.01)  # the learned temperature is clamped at 100


def log_spaced_coords(window_size: int, pretrained_window_size: int = 0) -> torch.Tensor:
    """``(2M-1, 2M-1, 2)`` relative offsets ``(dy, dx)`` normalised to [-8, 8] by the (pre-training) window
    and mapped by ``sign(t) * log2(1 + |t|) / log2(8)``."""
    span = (pretrained_window_size if pretrained_window_size > 0 else window_size) - 1
    offsets = torch.arange(-(window_size - 1), window_size, dtype=torch.float32)
    table = torch.stack(torch.meshgrid(offsets, offsets, indexing="ij"), dim=-1) / span * 8
    return torch.sign(table) * torch.log2(table.abs() + 1.0) / math.log2(8)


@register("swinv2", kind="attention", inputs=(96, 14, 14), channels=96, num_heads=3, window_size=7)
@register(
    "swinv2-shifted",
    kind="attention",
    inputs=(96, 14, 14),
    channels=96,
    num_heads=3,
    window_size=7,
    shift_size=3,
)
class SwinV2WindowAttention(nn.Module):
    """Swin V2's (shifted-)window attention: cosine similarity with a learned temperature, and a position
    bias produced by a small MLP from log-spaced relative coordinates.

    As in Swin, the map is padded to multiples of the window ``M``, optionally rolled by ``(-s, -s)``, and each
    ``M x M`` window attends to itself, but the logits are
    ``Sim(q_i, k_j) = cos(q_i, k_j) / tau + B_ij + A_ij`` per head, with ``1 / tau = exp(min(t, log 100))`` for
    a learned ``t`` per head (initialised to ``log 10``), ``B_ij = 16 * sigmoid(G(dy, dx))`` where ``G`` is a
    two-layer ReLU MLP of the offsets mapped to ``sign(t) log2(1 + |t|) / 3`` after scaling them to [-8, 8],
    and ``A`` the shift mask (-100 across sub-windows). The query and value projections have biases, the key
    projection none. Memory grows with ``H*W*M^2`` per head for window ``M``.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads ``h`` (SwinV2-T: 3, 6, 12, 24 in its four stages).
        window_size: window side ``M`` (official default: 7; the released models use 8 to 24).
        shift_size: cyclic shift ``s`` in ``[0, M)``; 0 for W-MSA, ``M // 2`` for SW-MSA.
        qkv_bias: learned query and value biases (official: True).
        pretrained_window_size: window of pre-training that normalises the offsets when a model is
            transferred to a larger window; 0 to use ``window_size`` (official: 0).
        cpb_dim: hidden width of the position-bias MLP (official: 512, fixed).
        attn_drop: dropout on the attention weights (official: 0).
        proj_drop: dropout after the output projection (official: 0).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> attn = cvattn.create("swinv2-shifted", channels=96, num_heads=3, window_size=7)
        >>> attn(torch.randn(2, 96, 13, 17)).shape
        torch.Size([2, 96, 13, 17])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of windows of ``(N, L, C)`` tokens, and is only the
        attention of a Swin V2 block (no post-norm, MLP or residual). The official classification block needs
        a map size that divides the window (and shrinks the window for a smaller map); here, maps that do not
        divide it are zero-padded at the bottom and right and cropped back, as the official Swin (V1) dense
        prediction backbones do.

    Reference:
        Liu, Hu, Lin, Yao, Xie, Wei, Ning, Cao, Zhang, Dong, Wei, Guo. Swin Transformer V2: Scaling Up
        Capacity and Resolution. CVPR 2022.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int,
        window_size: int = 7,
        shift_size: int = 0,
        qkv_bias: bool = True,
        pretrained_window_size: int = 0,
        cpb_dim: int = 512,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if window_size < 2 or not 0 <= shift_size < window_size:
            raise ValueError(
                f"need window_size >= 2 and 0 <= shift_size < window_size, got {window_size}, {shift_size}"
            )
        if pretrained_window_size == 1 or pretrained_window_size < 0:
            raise ValueError(f"pretrained_window_size must be 0 or at least 2, got {pretrained_window_size}")
        self.channels, self.num_heads = channels, num_heads
        self.window_size, self.shift_size = window_size, shift_size
        self.attn_drop = attn_drop
        self.logit_scale = nn.Parameter(torch.full((num_heads, 1, 1), math.log(10.0)))
        self.cpb_mlp = nn.Sequential(
            nn.Linear(2, cpb_dim), nn.ReLU(inplace=True), nn.Linear(cpb_dim, num_heads, bias=False)
        )
        coords = log_spaced_coords(window_size, pretrained_window_size)
        self.register_buffer("relative_coords_table", coords, persistent=False)
        self.register_buffer(
            "relative_position_index", relative_position_index(window_size), persistent=False
        )
        self.qkv = nn.Linear(channels, 3 * channels, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(channels)) if qkv_bias else None
        self.v_bias = nn.Parameter(torch.zeros(channels)) if qkv_bias else None
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)

    def relative_position_bias(self) -> torch.Tensor:
        """``B = 16 * sigmoid(G(coords))``: ``(h, M*M, M*M)``."""
        length = self.window_size**2
        table = self.cpb_mlp(self.relative_coords_table).reshape(-1, self.num_heads)  # ((2M-1)^2, h)
        bias = table[self.relative_position_index.flatten()].reshape(length, length, self.num_heads)
        return 16 * torch.sigmoid(bias.permute(2, 0, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h, w = x.size(0), self.channels, x.size(2), x.size(3)
        m, s, heads = self.window_size, self.shift_size, self.num_heads
        pad_b, pad_r = (m - h % m) % m, (m - w % m) % m
        hp, wp = h + pad_b, w + pad_r
        z = F.pad(to_channels_last(x), (0, 0, 0, pad_r, 0, pad_b))  # (N, Hp, Wp, C)
        if s > 0:
            z = torch.roll(z, shifts=(-s, -s), dims=(1, 2))
        windows = window_partition(z, m)  # (N, nW, M*M, C)
        bias = None
        if self.q_bias is not None:
            bias = torch.cat((self.q_bias, torch.zeros_like(self.v_bias), self.v_bias))  # no key bias
        qkv = F.linear(windows, self.qkv.weight, bias).reshape(n, -1, m * m, 3, heads, c // heads)
        q, k, v = qkv.permute(3, 0, 1, 4, 2, 5).unbind(0)  # 3 x (N, nW, h, M*M, d)
        inv_tau = torch.clamp(self.logit_scale, max=MAX_LOGIT_SCALE).exp()  # (h, 1, 1)
        q, k = F.normalize(q, dim=-1) * inv_tau, F.normalize(k, dim=-1)  # cos(q, k) / tau as q . k
        mask = self.relative_position_bias()  # (h, M*M, M*M)
        if s > 0:
            mask = mask + shift_window_mask(hp, wp, m, s, x.device)[:, None]  # (nW, h, M*M, M*M)
        drop = self.attn_drop if self.training else 0.0
        y = attend(q, k, v, mask.to(q.dtype), scale=1.0, dropout_p=drop)
        y = self.proj_drop(self.proj(y.transpose(2, 3).reshape(n, -1, m * m, c)))  # (N, nW, M*M, C)
        z = window_reverse(y, m, hp, wp)  # (N, Hp, Wp, C)
        if s > 0:
            z = torch.roll(z, shifts=(s, s), dims=(1, 2))
        return match_memory_format(from_channels_last(z[:, :h, :w]), x)
