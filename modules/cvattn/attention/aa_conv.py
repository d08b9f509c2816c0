"""Attention-augmented convolution (AA-Conv).

Paper: "Attention Augmented Convolutional Networks", Irwan Bello, Barret Zoph, Ashish Vaswani, Jonathon Shlens,
Quoc V. Le, ICCV 2019, https://arxiv.org/abs/1904.09925. The official code is the TensorFlow listing in the
paper's appendix (``augmented_conv2d``, ``relative_logits``); no repository was released.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import check_input


def _round_heads(value: float, heads: int) -> int:
    return max(heads, int(value) // heads * heads)


@fx.wrap
def _relative_table(emb: torch.Tensor, length: int, max_length: int) -> torch.Tensor:
    """``(L, L, d)`` table of embeddings ``r[j - i]`` for positions ``i, j < L`` from ``2 * max_length - 1`` offsets."""
    pos = torch.arange(length, device=emb.device)
    offset = pos.unsqueeze(0) - pos.unsqueeze(1) + max_length - 1  # j - i, shifted to an index
    return emb[offset]


@register("aa-conv", kind="block", inputs=(64, 14, 14), in_channels=64, out_channels=64)
class AttentionAugmentedConv(nn.Module):
    """Convolution whose output is concatenated with multi-head 2-D relative self-attention.

    ``AAConv(X) = Concat[Conv(X), MHA(X)]``: a ``k x k`` convolution gives ``F_out - d_v`` channels and
    multi-head attention over all ``H*W`` positions gives ``d_v``. Queries, keys and values come from one
    1x1 convolution (``2 d_k + d_v`` channels); per head ``O_h = softmax(q k^T / sqrt(d_k^h) +
    S_H^rel + S_W^rel) v``, where the relative logits ``S^rel`` add ``q . r^W_{x'-x} + q . r^H_{y'-y}``
    (learned height and width offset embeddings, per head depth ``d_k^h``); the heads are concatenated
    and mixed by a 1x1 convolution ``W^O``. Memory grows with ``(H*W)^2`` per head.

    Args:
        in_channels: input channels ``F_in``.
        out_channels: output channels ``F_out``.
        kernel_size: kernel of the convolution branch (paper: 3).
        stride: stride of both branches (the attention input is average-pooled).
        key_channels: ``d_k`` (default ``0.2 * F_out``, ``kappa = 0.2`` of the ResNet experiments,
            rounded down to a multiple of ``num_heads``).
        value_channels: ``d_v`` (default ``0.1 * F_out``, ``upsilon = 0.1``, rounded the same way).
        num_heads: ``N_h`` (paper: 8).
        relative: add the 2-D relative position logits.
        max_size: largest ``H`` and ``W`` the relative embeddings cover (``2 * max_size - 1`` offsets
            each); the paper sizes them to the feature map, any smaller map uses the central offsets.

    Shape:
        - Input: ``(N, F_in, H, W)``
        - Output: ``(N, F_out, H / stride, W / stride)``

    Examples:
        >>> import torch, cvattn
        >>> aa = cvattn.create("aa-conv", in_channels=64, out_channels=64)
        >>> aa(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The relative embeddings are allocated for ``max_size`` so one module accepts any ``H, W`` up to
        it. With ``stride > 1`` the attention branch works on a ``stride x stride`` average-pooled input
        (the paper's listing downsamples likewise, by pooling or a strided qkv convolution).

    Reference:
        Bello, Zoph, Vaswani, Shlens, Le. Attention Augmented Convolutional Networks. ICCV 2019.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        key_channels: int | None = None,
        value_channels: int | None = None,
        num_heads: int = 8,
        relative: bool = True,
        max_size: int = 64,
    ) -> None:
        super().__init__()
        dk = key_channels or _round_heads(0.2 * out_channels, num_heads)
        dv = value_channels or _round_heads(0.1 * out_channels, num_heads)
        if dk % num_heads or dv % num_heads or dv >= out_channels:
            raise ValueError(
                f"key/value channels ({dk}, {dv}) must divide into {num_heads} heads, dv < out_channels"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.dk, self.dv, self.num_heads = dk, dv, num_heads
        self.relative, self.max_size = relative, max_size
        self.conv = nn.Conv2d(in_channels, out_channels - dv, kernel_size, stride, padding=kernel_size // 2)
        self.qkv = nn.Conv2d(in_channels, 2 * dk + dv, 1)
        self.pool = nn.AvgPool2d(stride, stride, ceil_mode=True) if stride > 1 else nn.Identity()
        self.attn_out = nn.Conv2d(dv, dv, 1)  # W^O
        if relative:
            dkh = dk // num_heads
            self.key_rel_w = nn.Parameter(torch.randn(2 * max_size - 1, dkh) * dkh**-0.5)
            self.key_rel_h = nn.Parameter(torch.randn(2 * max_size - 1, dkh) * dkh**-0.5)

    def relative_logits(self, q: torch.Tensor, h: int, w: int) -> torch.Tensor:
        """``S_H^rel + S_W^rel`` for scaled queries ``q`` ``(N, Nh, H, W, d)``: ``(N, Nh, HW, HW)``."""
        r_w = _relative_table(self.key_rel_w, w, self.max_size).to(q.dtype)  # (W, W', d)
        r_h = _relative_table(self.key_rel_h, h, self.max_size).to(q.dtype)  # (H, H', d)
        s_w = torch.einsum("bnyxd,xvd->bnyxv", q, r_w)  # q_{y,x} . r^W_{x'-x}: (N, Nh, H, W, W')
        s_h = torch.einsum("bnyxd,yud->bnyxu", q, r_h)  # q_{y,x} . r^H_{y'-y}: (N, Nh, H, W, H')
        logits = s_h.unsqueeze(-1) + s_w.unsqueeze(-2)  # (N, Nh, H, W, H', W')
        return logits.flatten(4).flatten(2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        conv_out = self.conv(x)
        xa = self.pool(x)
        n, h, w, nh = x.size(0), xa.shape[2], xa.shape[3], self.num_heads
        q, k, v = self.qkv(xa).split([self.dk, self.dk, self.dv], dim=1)
        q = q.reshape(n, nh, self.dk // nh, -1).transpose(2, 3)  # (N, Nh, HW, dkh)
        k = k.reshape(n, nh, self.dk // nh, -1).transpose(2, 3)  # (N, Nh, HW, dkh)
        v = v.reshape(n, nh, self.dv // nh, -1).transpose(2, 3)  # (N, Nh, HW, dvh)
        scale = (self.dk // nh) ** -0.5
        bias = None
        if self.relative:
            bias = self.relative_logits(q.reshape(n, nh, h, w, -1) * scale, h, w)
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=scale)  # (N, Nh, HW, dvh)
        o = o.transpose(2, 3).reshape(n, self.dv, h, w)  # concatenated heads
        return torch.cat([conv_out, self.attn_out(o)], 1)
