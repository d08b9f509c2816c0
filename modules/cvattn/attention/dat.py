"""Deformable attention of the Deformable Attention Transformer (DAT).

Paper: "Vision Transformer with Deformable Attention", Zhuofan Xia, Xuran Pan, Shiji Song, Li Erran Li, Gao Huang,
CVPR 2022, https://openaccess.thecvf.com/content/CVPR2022/html/Xia_Vision_Transformer_With_Deformable_Attention_CVPR_2022_paper.html.
Official code: https://github.com/LeapLabTHU/DAT (``models/dat_blocks.py``, ``DAttentionBaseline``; the CVPR 2022
version, before the DAT++ update of 2023-09).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_channels_last, to_channels_last


def _centres(size: int, like: torch.Tensor) -> torch.Tensor:
    """Pixel centres ``(i + 0.5) / size`` mapped to ``[-1, 1]``, as the official reference points."""
    return (torch.arange(size, device=like.device, dtype=like.dtype) + 0.5) / size * 2 - 1


@register(
    "dat",
    kind="attention",
    inputs=(64, 14, 14),
    channels=64,
    num_heads=4,
    num_groups=2,
    fmap_size=14,
    kernel_size=5,
)
class DeformableAttention(nn.Module):
    """DAT deformable attention: all queries attend to keys and values sampled at learned, shared offsets.

    The queries ``q = W_q x`` of each of ``G`` channel groups pass an offset network (depthwise
    ``k x k`` conv with stride ``r``, LayerNorm, GELU, 1x1 conv to 2 channels) that moves a uniform grid
    of reference points ``p``: ``Delta p = s * tanh(theta(q)) / (H_k, W_k)`` with range factor ``s``.
    The input is sampled bilinearly at ``p + Delta p`` (``x~``), and every query attends to the sampled
    keys ``k~ = W_k x~`` and values ``v~ = W_v x~``: ``softmax(q k~^T / sqrt(d) + phi(B; R)) v~``, where
    ``phi`` interpolates a learned relative position bias table ``B`` of ``(2H-1) x (2W-1)`` entries per
    head at the continuous query-to-key displacement ``R``. Memory grows with ``(H*W)^2 / r^2`` per head.

    Args:
        channels: channels ``C`` (DAT-T stages 3 and 4: 384 and 768).
        num_heads: heads ``h`` (DAT-T stage 3: 12).
        num_groups: offset groups ``G``, each shared by ``h / G`` heads (DAT-T stage 3: 3).
        fmap_size: feature-map size ``(H, W)`` the bias table is made for (DAT-T stage 3: 14, at 224 input).
        kernel_size: kernel of the offset network's depthwise conv (DAT stages 1-4: 9, 7, 5, 3).
        stride: reference-grid stride ``r`` (DAT-T: 1).
        offset_range_factor: ``s`` (DAT-T: 2); negative means unbounded offsets, squashed with ``tanh``.
        use_pe: add the interpolated relative position bias (DAT-T stages 3 and 4: True).
        attn_drop: dropout on the attention weights (official: 0).
        proj_drop: dropout after the output projection (official: 0).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> dat = cvattn.create("dat", channels=64, num_heads=4, num_groups=2, fmap_size=14, kernel_size=5)
        >>> dat(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Returns only the output, not the sampling positions and reference points. The official bias lookup
        reshapes the table to the input size, so it runs only on ``fmap_size`` maps; here the table is
        interpolated in normalised coordinates, which gives the official result at ``fmap_size`` and also
        works at other sizes. The depthwise-conv (``dwc_pe``), fixed (``fixed_pe``) and no-offset
        (``no_off``) ablations are not included.

    Reference:
        Xia, Pan, Song, Li, Huang. Vision Transformer with Deformable Attention. CVPR 2022.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 12,
        num_groups: int = 3,
        fmap_size: int | tuple[int, int] = 14,
        kernel_size: int = 5,
        stride: int = 1,
        offset_range_factor: float = 2.0,
        use_pe: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if num_groups < 1 or num_heads % num_groups:
            raise ValueError(f"num_heads ({num_heads}) must be divisible by num_groups ({num_groups})")
        if kernel_size < 1 or stride < 1:
            raise ValueError(f"kernel_size ({kernel_size}) and stride ({stride}) must be positive")
        fh, fw = (fmap_size, fmap_size) if isinstance(fmap_size, int) else tuple(fmap_size)
        if fh < 1 or fw < 1:
            raise ValueError(f"fmap_size must be positive, got {fmap_size}")
        self.channels, self.num_heads, self.num_groups = channels, num_heads, num_groups
        self.offset_range_factor, self.attn_drop = offset_range_factor, attn_drop
        self.scale = (channels // num_heads) ** -0.5
        cg = channels // num_groups
        self.offset_dw = nn.Conv2d(cg, cg, kernel_size, stride, kernel_size // 2, groups=cg)
        self.offset_norm = nn.LayerNorm(cg)
        self.offset_act = nn.GELU()
        self.offset_pw = nn.Conv2d(cg, 2, 1, bias=False)
        self.proj_q = nn.Conv2d(channels, channels, 1)
        self.proj_k = nn.Conv2d(channels, channels, 1)
        self.proj_v = nn.Conv2d(channels, channels, 1)
        self.proj_out = nn.Conv2d(channels, channels, 1)
        self.proj_drop = nn.Dropout(proj_drop)
        if use_pe:
            self.table_size = (2 * fh - 1, 2 * fw - 1)
            self.rpe_table = nn.Parameter(torch.zeros(num_heads, *self.table_size))
            nn.init.trunc_normal_(self.rpe_table, std=0.01)
        else:
            self.register_parameter("rpe_table", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, height, width = x.shape
        g, h = self.num_groups, self.num_heads
        q = self.proj_q(x)
        # offset network theta on each group's queries: (N*G, 2, Hk, Wk), channels (dy, dx)
        t = self.offset_dw(q.reshape(n * g, c // g, height, width))
        t = from_channels_last(self.offset_norm(to_channels_last(t)))
        offset = self.offset_pw(self.offset_act(t))
        hk, wk = offset.shape[2], offset.shape[3]
        if self.offset_range_factor > 0:
            offset = offset.tanh() * self.offset_range_factor
            offset = torch.stack([offset[:, 0] / hk, offset[:, 1] / wk], -1)  # (N*G, Hk, Wk, 2)
        else:
            offset = offset.permute(0, 2, 3, 1)
        ref = torch.stack(torch.meshgrid(_centres(hk, x), _centres(wk, x), indexing="ij"), -1)  # (Hk, Wk, 2)
        pos = offset + ref if self.offset_range_factor >= 0 else (offset + ref).tanh()  # (y, x) in [-1, 1]
        x_sampled = F.grid_sample(
            x.reshape(n * g, c // g, height, width), pos.flip(-1), mode="bilinear", align_corners=True
        )  # (N*G, C/G, Hk, Wk)
        x_sampled = x_sampled.reshape(n, c, 1, -1)  # (N, C, 1, Ns)
        d = c // h
        q = q.reshape(n, h, d, -1).transpose(-1, -2)  # (N, h, HW, d)
        k = self.proj_k(x_sampled).reshape(n, h, d, -1).transpose(-1, -2)  # (N, h, Ns, d)
        v = self.proj_v(x_sampled).reshape(n, h, d, -1).transpose(-1, -2)
        bias = None
        if self.rpe_table is not None:
            q_grid = torch.stack(torch.meshgrid(_centres(height, x), _centres(width, x), indexing="ij"), -1)
            r = (q_grid.reshape(1, -1, 1, 2) - pos.reshape(n * g, 1, -1, 2)) * 0.5  # (N*G, HW, Ns, 2)
            table = self.rpe_table.to(x.dtype).expand(n, -1, -1, -1)  # (N, h, 2H-1, 2W-1)
            table = table.reshape(n * g, h // g, *self.table_size)  # heads of group g: g*h/G ...
            bias = F.grid_sample(table, r.flip(-1), mode="bilinear", align_corners=True)  # (N*G, h/G, HW, Ns)
            bias = bias.reshape(n, h, height * width, -1)
        drop = self.attn_drop if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=drop, scale=self.scale)
        y = y.transpose(-1, -2).reshape(n, c, height, width)
        return match_memory_format(self.proj_drop(self.proj_out(y)), x)
