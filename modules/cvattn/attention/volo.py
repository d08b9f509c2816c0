"""Outlook attention of VOLO.

Paper: "VOLO: Vision Outlooker for Visual Recognition", Li Yuan, Qibin Hou, Zihang Jiang, Jiashi Feng,
Shuicheng Yan, IEEE TPAMI 2023 (arXiv 2106.13112), https://ieeexplore.ieee.org/document/9888055.
Official code: https://github.com/sail-sg/volo (``models/volo.py``, ``OutlookAttention``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_channels_last, to_channels_last


@register("volo", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=2, stride=2)
class OutlookAttention(nn.Module):
    """VOLO outlook attention: each location predicts the attention weights of its own K x K window.

    Values are ``v = W_v x``. At every (pooled) location ``(i, j)`` a linear layer turns the token
    into ``h`` weight matrices ``A_ij = softmax(scale * W_A x_ij)`` of size ``K^2 x K^2`` (no query-key
    products): row ``m`` of ``A_ij`` says how the ``K^2`` values of the window centred on ``(i, j)``
    are mixed into its ``m``-th position, ``Y_ij = A_ij V_ij``. The windows overlap; each output pixel
    sums the contributions of every window that covers it (fold), then ``proj`` mixes channels. With
    ``stride s`` the weights come from ``s x s`` average-pooled tokens and windows are placed every
    ``s`` pixels. Memory grows with ``H*W*K^4 / s^2`` per head (the weights), and ``H*W*C*K^2 / s^2``
    for the unfolded values.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads ``h`` (VOLO-D1 outlookers: 6 heads on 192 channels; class default 1 as in
            ``Outlooker``).
        kernel_size: window size ``K`` (official: 3).
        padding: padding of the windows (official: 1).
        stride: window stride ``s`` (official class: 1; the VOLO models use 2).
        qkv_bias: bias in the value projection (official: False).
        qk_scale: scale of the predicted weights (official: ``(C / h) ** -0.5``).
        attn_drop: dropout on the attention weights (official: 0).
        proj_drop: dropout after the output projection (official: 0).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> outlook = cvattn.create("volo", channels=64, num_heads=2, stride=2)
        >>> outlook(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, H, W, C)`` tokens. The weights are
        not a query-key softmax, so ``scaled_dot_product_attention`` does not apply.

    Reference:
        Yuan, Hou, Jiang, Feng, Yan. VOLO: Vision Outlooker for Visual Recognition. TPAMI 2023.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 1,
        kernel_size: int = 3,
        padding: int = 1,
        stride: int = 1,
        qkv_bias: bool = False,
        qk_scale: float | None = None,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if kernel_size < 1 or stride < 1 or padding < 0:
            raise ValueError(f"bad window: kernel_size={kernel_size}, stride={stride}, padding={padding}")
        self.channels, self.num_heads = channels, num_heads
        self.kernel_size, self.padding, self.stride = kernel_size, padding, stride
        self.scale = qk_scale or (channels // num_heads) ** -0.5
        self.v = nn.Linear(channels, channels, bias=qkv_bias)
        self.attn = nn.Linear(channels, kernel_size**4 * num_heads)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, height, width = x.shape
        h, kk, s = self.num_heads, self.kernel_size**2, self.stride
        v = from_channels_last(self.v(to_channels_last(x)))  # (N, C, H, W)
        v = F.unfold(v, self.kernel_size, padding=self.padding, stride=s)  # (N, C*K^2, L)
        v = v.reshape(n, h, c // h, kk, -1).permute(0, 1, 4, 3, 2)  # (N, h, L, K^2, C/h)
        pooled = F.avg_pool2d(x, s, s, ceil_mode=True)  # (N, C, ceil(H/s), ceil(W/s))
        a = self.attn(to_channels_last(pooled))  # (N, H', W', h*K^4)
        a = a.reshape(n, -1, h, kk, kk).transpose(1, 2)  # (N, h, L, K^2, K^2)
        a = self.attn_drop((a * self.scale).softmax(dim=-1))
        y = (a @ v).permute(0, 1, 4, 3, 2).reshape(n, c * kk, -1)  # (N, C*K^2, L)
        y = F.fold(y, (height, width), self.kernel_size, padding=self.padding, stride=s)  # (N, C, H, W)
        y = self.proj_drop(self.proj(to_channels_last(y)))  # (N, H, W, C)
        return match_memory_format(from_channels_last(y), x)
