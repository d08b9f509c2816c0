"""Multi-scale deformable attention of Deformable DETR, on one feature level.

Paper: "Deformable DETR: Deformable Transformers for End-to-End Object Detection", Xizhou Zhu, Weijie Su,
Lewei Lu, Bin Li, Xiaogang Wang, Jifeng Dai, ICLR 2021, https://openreview.net/forum?id=gZ9hCDWe6ke.
Official code: https://github.com/fundamentalvision/Deformable-DETR (``models/ops/modules/ms_deform_attn.py``,
``MSDeformAttn``; pure-PyTorch sampling in ``models/ops/functions/ms_deform_attn_func.py``,
``ms_deform_attn_core_pytorch``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_tokens, to_tokens

fx.wrap("from_tokens")  # a leaf while tracing: its size check reads the (symbolic) shape


@register("deformable-detr", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=8, num_points=4)
class MSDeformAttn(nn.Module):
    """Deformable attention: each query mixes a few bilinearly sampled values around its reference point.

    For query ``z_q`` with reference point ``p_q`` (here: every pixel, at its own centre) and head ``m``,
    ``DeformAttn(z_q, p_q, x) = W_o [sum_k A_mqk W_v x(p_q + Delta p_mqk)]_m``: the ``K`` sampling
    offsets ``Delta p_mqk`` (in pixels) and their weights ``A_mqk`` (softmax over the ``K`` points) are
    both linear projections of ``z_q``, and ``x(.)`` is bilinear interpolation with zeros outside the
    map. Nothing is compared with every key, so memory grows with ``H*W*M*K`` (``M`` heads, ``K``
    points) instead of ``(H*W)^2``.

    Args:
        channels: channels ``C`` (``d_model``; official: 256).
        num_heads: heads ``M`` (official: 8).
        num_points: sampling points ``K`` per head (official: 4).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> attn = cvattn.create("deformable-detr", channels=64, num_heads=8, num_points=4)
        >>> attn(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        One feature level (the official ``n_levels=1``) serving as both queries and values, with the
        reference points at the pixel centres, as in the Deformable DETR encoder on a single level; the
        official module takes query tokens, reference points and a flattened multi-level input, and
        defaults to 4 levels. Sampling uses the official pure-PyTorch path (``grid_sample``), not the CUDA
        kernel; no padding mask.

    Reference:
        Zhu, Su, Lu, Li, Wang, Dai. Deformable DETR: Deformable Transformers for End-to-End Object
        Detection. ICLR 2021.
    """

    def __init__(self, channels: int, num_heads: int = 8, num_points: int = 4) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if num_points < 1:
            raise ValueError(f"num_points must be positive, got {num_points}")
        self.channels, self.num_heads, self.num_points = channels, num_heads, num_points
        self.sampling_offsets = nn.Linear(channels, num_heads * num_points * 2)
        self.attention_weights = nn.Linear(channels, num_heads * num_points)
        self.value_proj = nn.Linear(channels, channels)
        self.output_proj = nn.Linear(channels, channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The official initialisation: offsets start on rings of radius 1..K in M directions."""
        m, k = self.num_heads, self.num_points
        nn.init.zeros_(self.sampling_offsets.weight)
        theta = torch.arange(m, dtype=torch.float32) * (2.0 * math.pi / m)
        direction = torch.stack([theta.cos(), theta.sin()], -1)
        direction = direction / direction.abs().amax(-1, keepdim=True)  # on the unit square's border
        radius = torch.arange(1, k + 1, dtype=torch.float32)
        with torch.no_grad():
            self.sampling_offsets.bias.copy_((direction[:, None, :] * radius[None, :, None]).flatten())
        nn.init.zeros_(self.attention_weights.weight)
        nn.init.zeros_(self.attention_weights.bias)
        for proj in (self.value_proj, self.output_proj):
            nn.init.xavier_uniform_(proj.weight)
            nn.init.zeros_(proj.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, height, width = x.shape
        m, k = self.num_heads, self.num_points
        z = to_tokens(x)  # queries and values: (N, L, C), L = H*W
        value = self.value_proj(z).transpose(1, 2).reshape(n * m, c // m, height, width)  # per head
        offsets = self.sampling_offsets(z).view(n, -1, m, k, 2)  # Delta p in pixels (x, y)
        weights = self.attention_weights(z).view(n, -1, m, k).softmax(-1)  # A: (N, L, M, K)
        ys = (torch.arange(height, device=x.device, dtype=z.dtype) + 0.5) / height
        xs = (torch.arange(width, device=x.device, dtype=z.dtype) + 0.5) / width
        ref_y, ref_x = torch.meshgrid(ys, xs, indexing="ij")  # reference points: pixel centres in [0, 1]
        loc_x = ref_x.reshape(1, -1, 1, 1) + offsets[..., 0] / width
        loc_y = ref_y.reshape(1, -1, 1, 1) + offsets[..., 1] / height
        grid = torch.stack([loc_x, loc_y], -1) * 2 - 1  # (N, L, M, K, 2) in grid_sample's [-1, 1]
        grid = grid.transpose(1, 2).flatten(0, 1)  # (N*M, L, K, 2)
        sampled = F.grid_sample(value, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        a = weights.transpose(1, 2).reshape(n * m, 1, -1, k)  # (N*M, 1, L, K)
        y = (sampled * a).sum(-1).view(n, c, -1).transpose(1, 2)  # (N, L, C)
        y = self.output_proj(y)
        return match_memory_format(from_tokens(y, (height, width)), x)
