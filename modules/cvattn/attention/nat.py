"""Neighborhood attention of the Neighborhood Attention Transformer (NAT).

Paper: "Neighborhood Attention Transformer", Ali Hassani, Steven Walton, Jiachen Li, Shen Li, Humphrey Shi,
CVPR 2023, https://openaccess.thecvf.com/content/CVPR2023/html/Hassani_Neighborhood_Attention_Transformer_CVPR_2023_paper.html.
Official code: https://github.com/SHI-Labs/Neighborhood-Attention-Transformer (``classification/nat.py``,
``NATLayer``), whose attention is ``NeighborhoodAttention2D`` of NATTEN (https://github.com/SHI-Labs/NATTEN,
``natten/natten2d.py``, C++/CUDA kernels).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_channels_last, to_channels_last


@fx.wrap
def _pad_to_window(x: torch.Tensor, size: int) -> torch.Tensor:
    """Zero-pad ``(N, H, W, C)`` at the bottom and right to at least ``size x size`` (as NATTEN does)."""
    return F.pad(x, (0, 0, 0, max(0, size - x.size(2)), 0, max(0, size - x.size(1))))


def _window_start(index: torch.Tensor, length: int, kernel_size: int) -> torch.Tensor:
    """First key index of each query's window along one axis: centred, shifted inward at the borders."""
    return (index - kernel_size // 2).clamp(min=0).clamp(max=length - kernel_size)


@register("nat", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=2, kernel_size=7)
class NeighborhoodAttention(nn.Module):
    """NAT neighborhood attention: each pixel attends to its K x K nearest neighbours.

    With ``q, k, v`` from one linear layer, the output at pixel ``i`` is
    ``softmax(scale * q_i k_{rho(i)}^T + B(i, rho(i))) v_{rho(i)}`` followed by ``proj``, where ``rho(i)``
    is the ``K x K`` window centred on ``i``; near the borders the window is shifted inward so that every
    query still sees ``K^2`` keys, and ``B`` is a learned relative position bias of ``(2K-1) x (2K-1)``
    entries per head, indexed by the key's offset from the query. Maps smaller than ``K`` are zero-padded
    at the bottom and right to ``K`` (before the projections) and cropped back. Memory grows with
    ``H*W*K^2`` per head.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads ``h`` (NAT-Mini: 2, 4, 8, 16 over the stages; no default in NATTEN).
        kernel_size: neighbourhood size ``K``, odd and greater than 1 (NAT: 7).
        qkv_bias: bias in the query/key/value projection (official: True).
        qk_scale: scale of the logits (official: ``(C / h) ** -0.5``).
        rel_pos_bias: learned relative position bias (NAT: True).
        attn_drop: dropout on the attention weights (official: 0).
        proj_drop: dropout after the output projection (official: 0).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> na = cvattn.create("nat", channels=64, num_heads=2, kernel_size=7)
        >>> na(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, H, W, C)`` tokens; computed in plain
        PyTorch (gathered neighbourhoods and ``scaled_dot_product_attention``) instead of NATTEN's kernels,
        without NATTEN's dilation option (DiNAT).

    Reference:
        Hassani, Walton, Li, Li, Shi. Neighborhood Attention Transformer. CVPR 2023.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 2,
        kernel_size: int = 7,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        rel_pos_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if kernel_size <= 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be an odd number greater than 1, got {kernel_size}")
        self.channels, self.num_heads, self.kernel_size = channels, num_heads, kernel_size
        self.scale = qk_scale or (channels // num_heads) ** -0.5
        self.attn_drop = attn_drop
        self.qkv = nn.Linear(channels, 3 * channels, bias=qkv_bias)
        if rel_pos_bias:
            self.rpb = nn.Parameter(torch.zeros(num_heads, 2 * kernel_size - 1, 2 * kernel_size - 1))
            nn.init.trunc_normal_(self.rpb, std=0.02, a=-2.0, b=2.0)
        else:
            self.register_parameter("rpb", None)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, height, width = x.shape
        h, ks = self.num_heads, self.kernel_size
        t = _pad_to_window(to_channels_last(x), ks)  # (N, Hp, Wp, C)
        hp, wp = t.shape[1], t.shape[2]
        q, k, v = (
            self.qkv(t).reshape(n, hp, wp, 3, h, c // h).permute(3, 0, 4, 1, 2, 5)
        )  # 3 x (N, h, Hp, Wp, d)
        yi, xi, offsets = (torch.arange(size, device=x.device) for size in (hp, wp, ks))  # query rows/cols
        rows = _window_start(yi, hp, ks)[:, None] + offsets  # key rows of each query row: (Hp, K)
        cols = _window_start(xi, wp, ks)[:, None] + offsets  # (Wp, K)
        ri, ci = rows[:, None, :, None], cols[None, :, None, :]  # (Hp, 1, K, 1), (1, Wp, 1, K)
        k = k[:, :, ri, ci].reshape(n, h * hp * wp, ks * ks, c // h)  # neighbourhood keys
        v = v[:, :, ri, ci].reshape(n, h * hp * wp, ks * ks, c // h)
        q = q.reshape(n, h * hp * wp, 1, c // h)
        bias = None
        if self.rpb is not None:
            dy = rows - yi[:, None] + ks - 1  # key row - query row + K - 1: (Hp, K)
            dx = cols - xi[:, None] + ks - 1
            bias = self.rpb[:, dy[:, None, :, None], dx[None, :, None, :]]  # (h, Hp, Wp, K, K)
            bias = bias.reshape(1, h * hp * wp, 1, ks * ks).to(q.dtype)
        drop = self.attn_drop if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=drop, scale=self.scale)
        y = y.reshape(n, h, hp, wp, c // h).permute(0, 2, 3, 1, 4).reshape(n, hp, wp, c)
        y = self.proj_drop(self.proj(y[:, :height, :width]))  # crop the padding
        return match_memory_format(from_channels_last(y), x)
