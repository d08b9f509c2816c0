"""Multi-head self-attention with 2-D relative position logits (MHSA) of the Bottleneck Transformer.

Paper: "Bottleneck Transformers for Visual Recognition", Aravind Srinivas, Tsung-Yi Lin, Niki Parmar, Jonathon
Shlens, Pieter Abbeel, Ashish Vaswani, CVPR 2021, https://arxiv.org/abs/2101.11605. Official code (TensorFlow):
https://gist.github.com/aravindsrinivas/56359b79f0ce4449bcb04ab4b56a57a2 (``MHSA``, ``relpos_self_attention``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_tokens, to_tokens


@fx.wrap
def _relative_index(x: torch.Tensor, length_dim: int, table_size: int) -> torch.Tensor:
    """``(L, L)`` rows of a relative table of ``2 * table_size - 1`` offsets: entry ``[query, key]`` holds
    ``key - query + table_size - 1``, offsets beyond the table clipped to its ends."""
    pos = torch.arange(x.shape[length_dim], device=x.device)
    offset = pos[None, :] - pos[:, None]  # key - query
    return offset.clamp(1 - table_size, table_size - 1) + table_size - 1


@register("botnet", kind="attention", inputs=(64, 14, 14), channels=64, heads=4, feat_size=(14, 14))
class BoTMHSA(nn.Module):
    """BoTNet's all-to-all multi-head self-attention with relative height and width logits.

    Queries, keys and values are bias-free 1x1 projections of the map, split into ``heads`` heads of
    ``d = C / heads`` channels. For query pixel ``(i, j)`` and key pixel ``(a, b)`` the logit is
    ``l = (q_ij^T k_ab + q_ij^T r^H_{a-i} + q_ij^T r^W_{b-j}) / sqrt(d)``, with learnt relative embeddings
    ``r^H`` (``2H - 1`` rows) and ``r^W`` (``2W - 1`` rows) of ``d`` channels shared by the heads;
    ``y_ij = sum_ab softmax_ab(l) v_ab``, heads concatenated. There is no output projection (the
    bottleneck's next 1x1 convolution plays that role). Memory grows with ``(H*W)^2`` per head.

    Args:
        channels: channels ``C`` in and out (BoTNet-50: 512, the bottleneck width of c5).
        heads: number of heads (official: 4).
        feat_size: ``(H, W)`` the relative tables are built for, ``2H - 1`` and ``2W - 1`` offsets
            (BoTNet-S1 on 224 x 224 images: 14 x 14 in c5).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> mhsa = cvattn.create("botnet", channels=64, heads=4, feat_size=(14, 14))
        >>> mhsa(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns an ``(N, C, H, W)`` map (the official code works on ``(N, H, W, C)``). The
        official tables take their size from the input; here they are sized by ``feat_size`` once,
        which gives the official result whenever the input is ``feat_size``. A smaller map uses the
        central rows of the tables; on a larger one, offsets beyond ``feat_size - 1`` are clipped to
        the last row. The relative embeddings are initialised with standard deviation ``d^-0.5`` (the
        gist passes that value as the mean by mistake, as its own comment says).

    Reference:
        Srinivas, Lin, Parmar, Shlens, Abbeel, Vaswani. Bottleneck Transformers for Visual Recognition.
        CVPR 2021.
    """

    def __init__(self, channels: int, heads: int = 4, feat_size: tuple[int, int] = (14, 14)) -> None:
        super().__init__()
        if heads < 1 or channels % heads:
            raise ValueError(f"channels ({channels}) must be divisible by heads ({heads})")
        if len(feat_size) != 2 or min(feat_size) < 1:
            raise ValueError(f"feat_size must be two positive ints (H, W), got {feat_size}")
        self.channels, self.heads = channels, heads
        self.feat_size = (int(feat_size[0]), int(feat_size[1]))
        head_dim = channels // heads
        self.scale = head_dim**-0.5
        self.qkv = nn.Conv2d(channels, 3 * channels, 1, bias=False)
        self.rel_height = nn.Parameter(torch.randn(2 * self.feat_size[0] - 1, head_dim) * head_dim**-0.5)
        self.rel_width = nn.Parameter(torch.randn(2 * self.feat_size[1] - 1, head_dim) * head_dim**-0.5)

    def relative_logits(self, q: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``q^T r^H_{a-i} + q^T r^W_{b-j}`` for queries ``q`` of shape ``(N, heads, H, W, d)``: ``(N, heads, HW, HW)``."""
        r_h = self.rel_height[_relative_index(x, 2, self.feat_size[0])]  # (H query, H key, d)
        r_w = self.rel_width[_relative_index(x, 3, self.feat_size[1])]  # (W query, W key, d)
        logits_h = torch.einsum("nhijd,iad->nhija", q, r_h.to(q.dtype))  # (N, heads, H, W, H)
        logits_w = torch.einsum("nhijd,jbd->nhijb", q, r_w.to(q.dtype))  # (N, heads, H, W, W)
        logits = logits_h.unsqueeze(-1) + logits_w.unsqueeze(-2)  # (N, heads, H, W, H, W)
        return logits.flatten(4).flatten(2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h, w = x.shape
        heads = self.heads
        qkv = to_tokens(self.qkv(x)).reshape(n, -1, 3, heads, c // heads)  # (N, HW, 3, heads, d)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # 3 x (N, heads, HW, d)
        q_2d = (q * self.scale).reshape(n, heads, h, w, c // heads)  # scaled queries on the grid
        bias = self.relative_logits(q_2d, x)  # (N, heads, HW, HW)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=self.scale)  # (N, heads, HW, d)
        y = y.transpose(1, 2).reshape(n, -1, c)  # (N, HW, C), heads folded as (head, d)
        return match_memory_format(from_tokens(y, (h, w)), x)
