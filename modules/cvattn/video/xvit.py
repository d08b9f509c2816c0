"""Space-time mixing attention of X-ViT.

Paper: "Space-time Mixing Attention for Video Transformer", Adrian Bulat, Juan-Manuel Perez-Rua, Swathikiran
Sudhakaran, Brais Martinez, Georgios Tzimiropoulos, NeurIPS 2021, https://arxiv.org/abs/2106.05968. Official code:
https://github.com/1adrianb/video-transformers (``slowfast/models/transformers/transformer_block.py``,
``Attention`` with ``insert_control_point=True``, and ``slowfast/models/temporal_shift.py``, ``TemporalShift``
placed on its keys and values by ``make_temporal_shift``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..clips import check_clip


@register("xvit", kind="attention", inputs=(64, 4, 7, 7), channels=64, num_heads=4)
class SpaceTimeMixingAttention(nn.Module):
    """X-ViT's space-time mixing attention: spatial attention whose keys and values mix neighbouring frames.

    Every frame's tokens attend only to the ``H*W`` tokens of their own frame, as in an image ViT, but the keys
    and values are built from a local temporal window ``t-1, t, t+1``: of their ``C`` channels, the first
    ``C / shift_div`` are taken from frame ``t+1``, the next ``C / shift_div`` from frame ``t-1`` (zeros beyond
    the ends of the clip) and the rest from frame ``t``. A query thus attends jointly to spatial positions and
    to the neighbouring frames at the cost of spatial-only attention, ``T*(H*W)^2`` per head; stacked blocks
    widen the temporal receptive field.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads ``h`` (X-ViT-B/16: 12, 64 channels per head).
        shift_div: ``C / shift_div`` channels of the keys and values come from each neighbouring frame
            (official Kinetics models: 8; SSv2: 4).
        qkv_bias: bias in the query/key/value projection (official ViT-B/16: True).
        qk_scale: scale of the logits; ``None`` for ``d ** -0.5``.
        attn_drop: dropout on the attention weights (official: 0).
        proj_drop: dropout after the output projection (official: 0).

    Shape:
        - Input: ``(N, C, T, H, W)``
        - Output: ``(N, C, T, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> attn = cvattn.create("xvit", channels=64, num_heads=4)
        >>> attn(torch.randn(2, 64, 4, 7, 7)).shape
        torch.Size([2, 64, 4, 7, 7])

    Deviations:
        Takes a clip and reads the frame count from it (the official module is told a fixed number of
        segments and sees ``(N*T, L, C)`` frames). No per-frame class token (in the official model it is one
        more token of every frame, mixed like the others). Only the attention of an X-ViT block (no LayerNorm,
        MLP or residual), and not the paper's global temporal attention heads of the classifier.

    Reference:
        Bulat, Perez-Rua, Sudhakaran, Martinez, Tzimiropoulos. Space-time Mixing Attention for Video Transformer.
        NeurIPS 2021.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 12,
        shift_div: int = 8,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if shift_div < 2:
            raise ValueError(f"shift_div must be at least 2 (two shifted folds), got {shift_div}")
        self.channels, self.num_heads = channels, num_heads
        self.fold = channels // shift_div
        self.scale = qk_scale or (channels // num_heads) ** -0.5
        self.attn_drop = attn_drop
        self.qkv = nn.Linear(channels, 3 * channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_clip(x, self.channels, type(self).__name__)
        n, c, t, h, w = x.size(0), self.channels, x.size(2), x.size(3), x.size(4)
        heads, fold, length = self.num_heads, self.fold, h * w
        tokens = x.permute(0, 2, 3, 4, 1).reshape(n, t, length, c)  # (N, T, HW, C): frames of tokens
        qkv = self.qkv(tokens)
        q = qkv[..., :c]
        kv = qkv[..., c:].reshape(n, t, length, 2, c)
        # mix time into the keys and values: fold channels from t+1, fold from t-1, the rest from t
        ahead = F.pad(kv[:, 1:, :, :, :fold], (0, 0, 0, 0, 0, 0, 0, 1))
        behind = F.pad(kv[:, :-1, :, :, fold : 2 * fold], (0, 0, 0, 0, 0, 0, 1, 0))
        kv = torch.cat((ahead, behind, kv[..., 2 * fold :]), dim=-1)  # (N, T, HW, 2, C)
        # SDPA on 4-D tensors (its fused CPU kernel takes no more): (N*T, h, HW, d)
        q = q.reshape(n * t, length, heads, c // heads).transpose(1, 2)
        k, v = kv.reshape(n * t, length, 2, heads, c // heads).permute(2, 0, 3, 1, 4).unbind(0)
        drop = self.attn_drop if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, scale=self.scale)  # (N*T, h, HW, d)
        y = self.proj_drop(self.proj(y.transpose(1, 2).reshape(n, t, length, c)))
        return y.reshape(n, t, h, w, c).permute(0, 4, 1, 2, 3).contiguous()
