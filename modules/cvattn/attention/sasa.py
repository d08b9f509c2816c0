"""Stand-alone (local) self-attention with relative position embeddings (SASA).

Paper: "Stand-Alone Self-Attention in Vision Models", Prajit Ramachandran, Niki Parmar, Ashish Vaswani,
Irwan Bello, Anselm Levskaya, Jonathon Shlens, NeurIPS 2019, https://arxiv.org/abs/1906.05909.
No official code was released; the paper's equations (Sec. 2.2-2.3) are the reference.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import check_input


@fx.wrap
def _inside_window(x: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """``(H*W, k*k)`` mask: which window positions of each pixel lie inside the image."""
    ones = torch.ones(1, 1, x.shape[2], x.shape[3], device=x.device)
    inside = F.unfold(ones, kernel_size, padding=kernel_size // 2)  # (1, k*k, H*W)
    return inside[0].t() > 0


def _windows(t: torch.Tensor, groups: int, kernel_size: int) -> torch.Tensor:
    """The ``k x k`` window around every pixel, split into heads: ``(N, G, H*W, k*k, d)``."""
    n, c = t.size(0), t.size(1)
    cols = F.unfold(t, kernel_size, padding=kernel_size // 2)  # (N, C*k*k, H*W)
    cols = cols.reshape(n, groups, c // groups, kernel_size * kernel_size, -1)  # (N, G, d, k*k, HW)
    return cols.permute(0, 1, 4, 3, 2)


@register("sasa", kind="block", inputs=(64, 14, 14), in_channels=64, out_channels=64)
class StandAloneSelfAttention(nn.Module):
    """Local multi-head self-attention over a ``k x k`` window with relative position embeddings.

    For pixel ``ij`` and each head, with ``q = W_Q x_ij``, ``k = W_K x_ab``, ``v = W_V x_ab`` for
    ``ab`` in the ``k x k`` neighbourhood ``N_k(i, j)``:
    ``y_ij = sum_ab softmax_ab(q^T k_ab + q^T r_{a-i, b-j}) v_ab``, where the relative embedding
    ``r_{a-i, b-j}`` concatenates a row-offset embedding and a column-offset embedding of
    ``out_channels / 2`` each (split across the heads with the channels). Spatial downsampling is a
    ``stride x stride`` average pooling after the attention, as in the paper. Memory grows linearly
    with ``H*W`` (``k^2`` keys per pixel).

    Args:
        in_channels: input channels.
        out_channels: output channels ``d_out`` (even, divisible by ``groups``).
        kernel_size: spatial extent ``k`` of the window (paper: 7).
        stride: downsampling factor, by average pooling after the attention.
        groups: number of heads ``N`` (paper: 8).

    Shape:
        - Input: ``(N, C_in, H, W)``
        - Output: ``(N, C_out, H / stride, W / stride)``

    Examples:
        >>> import torch, cvattn
        >>> sasa = cvattn.create("sasa", in_channels=64, out_channels=64)
        >>> sasa(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Window positions outside the image are masked out of the softmax (the paper leaves borders
        unspecified; zero padding would let them compete with logit ``q^T r``). The logits are not
        scaled, as in the paper's equation.

    Reference:
        Ramachandran, Parmar, Vaswani, Bello, Levskaya, Shlens. Stand-Alone Self-Attention in Vision
        Models. NeurIPS 2019.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int = 7, stride: int = 1, groups: int = 8
    ) -> None:
        super().__init__()
        if out_channels % groups or out_channels % 2:
            raise ValueError(f"out_channels ({out_channels}) must be even and divisible by groups ({groups})")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.groups = groups
        self.query = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.key = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.value = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        head_dim = out_channels // groups
        self.rel_h = nn.Parameter(torch.randn(out_channels // 2, kernel_size) * head_dim**-0.5)  # r_{a-i}
        self.rel_w = nn.Parameter(torch.randn(out_channels // 2, kernel_size) * head_dim**-0.5)  # r_{b-j}
        self.pool = nn.AvgPool2d(stride, stride) if stride > 1 else nn.Identity()

    def relative_embedding(self) -> torch.Tensor:
        """``r_{a-i, b-j}`` for every window position, ``(d_out, k*k)`` (row-major window order)."""
        k = self.kernel_size
        r_row = self.rel_h.unsqueeze(2).expand(-1, k, k)  # depends on the row offset a - i
        r_col = self.rel_w.unsqueeze(1).expand(-1, k, k)  # depends on the column offset b - j
        return torch.cat([r_row, r_col], 0).reshape(self.out_channels, k * k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        n, g, kk = x.size(0), self.groups, self.kernel_size
        q = (
            self.query(x).reshape(n, g, self.out_channels // g, 1, -1).permute(0, 1, 4, 3, 2)
        )  # (N, G, HW, 1, d)
        k = _windows(self.key(x), g, kk)  # (N, G, HW, k*k, d)
        v = _windows(self.value(x), g, kk)  # (N, G, HW, k*k, d)
        r = self.relative_embedding().reshape(g, -1, kk * kk).transpose(1, 2)  # (G, k*k, d)
        r = r.unsqueeze(1).to(k.dtype)  # (G, 1, k*k, d), broadcast over pixels
        mask = _inside_window(x, kk)  # (HW, k*k)
        y = F.scaled_dot_product_attention(
            q, k + r, v, attn_mask=mask.unsqueeze(1), scale=1.0
        )  # (N, G, HW, 1, d)
        y = y.permute(0, 1, 4, 3, 2).reshape(n, self.out_channels, x.shape[2], x.shape[3])
        return self.pool(y)
