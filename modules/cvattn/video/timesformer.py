"""Divided space-time attention of TimeSformer.

Paper: "Is Space-Time Attention All You Need for Video Understanding?", Gedas Bertasius, Heng Wang, Lorenzo
Torresani, ICML 2021, https://arxiv.org/abs/2102.05095. Official code:
https://github.com/facebookresearch/TimeSformer (``timesformer/models/vit.py``, ``Attention`` and ``Block`` with
``attention_type="divided_space_time"``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..clips import check_clip
from ._axis_attention import AxisSelfAttention


@register("timesformer", kind="attention", inputs=(64, 4, 7, 7), channels=64, num_heads=4)
class DividedSpaceTimeAttention(nn.Module):
    """TimeSformer's divided space-time attention: temporal attention, then spatial attention, in one block.

    Every patch token first attends to the tokens at the same spatial position in the other frames (temporal
    attention over ``T``), whose result is projected by ``temporal_fc`` and added to the input:
    ``x_t = x + W_t TA(x)``. The tokens of each frame then attend to each other (spatial attention over
    ``H*W``): ``x_s = SA(x_t)``. Both are multi-head softmax self-attention with their own query/key/value and
    output projections. The module returns the block's attention update ``W_t TA(x) + SA(x_t)``, so that
    ``x + module(x)`` is what the official block computes before its MLP. Cost grows with
    ``T*H*W*(T + H*W)`` per head instead of ``(T*H*W)^2`` for joint space-time attention.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads ``h`` of both attentions (TimeSformer, ViT-Base: 12, 64 channels per head).
        qkv_bias: bias in the query/key/value projections (official model: True).
        qk_scale: scale of the logits; ``None`` for ``d ** -0.5``.
        attn_drop: dropout on the attention weights (official: 0).
        proj_drop: dropout after the output projections (official: 0).

    Shape:
        - Input: ``(N, C, T, H, W)``
        - Output: ``(N, C, T, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> attn = cvattn.create("timesformer", channels=64, num_heads=4)
        >>> attn(torch.randn(2, 64, 4, 7, 7)).shape
        torch.Size([2, 64, 4, 7, 7])

    Deviations:
        Only the attention of the divided block: no class token (the official spatial attention also lets
        each frame's patches attend to a copy of the class token, and averages the frames' class outputs),
        no pre-attention LayerNorms (``temporal_norm1``, ``norm1``), no position embeddings, MLP or outer
        residual (add the input to the output for the residual). The official model initialises
        ``temporal_fc`` to zero in every block but the first; here it keeps ``nn.Linear``'s default
        initialisation.

    Reference:
        Bertasius, Wang, Torresani. Is Space-Time Attention All You Need for Video Understanding? ICML 2021.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 12,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        self.channels, self.num_heads = channels, num_heads
        self.scale = qk_scale or (channels // num_heads) ** -0.5
        self.temporal_attn = AxisSelfAttention(channels, num_heads, qkv_bias, attn_drop, proj_drop)
        self.temporal_fc = nn.Linear(channels, channels)
        self.attn = AxisSelfAttention(channels, num_heads, qkv_bias, attn_drop, proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_clip(x, self.channels, type(self).__name__)
        z = x.permute(0, 3, 4, 2, 1)  # (N, H, W, T, C): temporal sequences
        res_temporal = self.temporal_fc(self.temporal_attn(z, self.scale))  # W_t TA(x)
        x_t = (z + res_temporal).transpose(2, 3).transpose(1, 2)  # (N, T, H, W, C)
        n, c, t, h, w = x.size(0), self.channels, x.size(2), x.size(3), x.size(4)
        res_spatial = self.attn(x_t.reshape(n, t, h * w, c), self.scale).reshape(n, t, h, w, c)  # SA(x_t)
        y = res_temporal.permute(0, 3, 1, 2, 4) + res_spatial  # (N, T, H, W, C)
        return y.permute(0, 4, 1, 2, 3).contiguous()
