"""Efficient multi-head self-attention (EMSA) of ResT.

Paper: "ResT: An Efficient Transformer for Visual Recognition", Qinglong Zhang, Yubin Yang, NeurIPS 2021,
https://arxiv.org/abs/2105.13677. Official code: https://github.com/wofmanaf/ResT (``models/rest.py``, ``Attention``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, match_memory_format


@register("rest", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=2, sr_ratio=4)
class EMSA(nn.Module):
    """ResT EMSA: multi-head self-attention on keys/values shrunk by a strided depthwise convolution.

    Queries come from every position. Keys and values come from the map reduced by a depthwise
    ``(s+1) x (s+1)`` convolution with stride ``s`` and padding ``s // 2`` followed by LayerNorm
    (``s = sr_ratio``). With the transform on, the ``h`` attention maps are mixed by a 1x1 convolution
    across heads before the softmax and instance-normalised across heads after it:
    ``A = IN(softmax(Conv1x1(q k^T / sqrt(d_k))))``; output ``proj(A v)``. Without the transform this
    is plain softmax attention. Memory grows with ``(H*W)^2 / s^2``.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads ``h`` (ResT stages: 1, 2, 4, 8).
        sr_ratio: spatial reduction ``s`` of keys and values (ResT stages: 8, 4, 2, 1).
        qkv_bias: bias in the query and key/value projections (ResT models: True).
        apply_transform: mix heads with a 1x1 conv and instance-normalise (ResT models: True; ignored for
            a single head, as in the official code).
        attn_drop: dropout on the attention weights.
        norm_layer: normalisation of the reduced tokens (LayerNorm).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> emsa = cvattn.create("rest", channels=64, num_heads=2, sr_ratio=4)
        >>> emsa(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, HW, C)`` tokens plus ``H, W``.

    Reference:
        Zhang, Yang. ResT: An Efficient Transformer for Visual Recognition. NeurIPS 2021.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 8,
        sr_ratio: int = 1,
        qkv_bias: bool = True,
        apply_transform: bool = True,
        attn_drop: float = 0.0,
        norm_layer: LayerType = nn.LayerNorm,
    ) -> None:
        super().__init__()
        if channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        self.channels, self.num_heads, self.sr_ratio = channels, num_heads, sr_ratio
        self.scale = (channels // num_heads) ** -0.5
        self.attn_drop = attn_drop
        self.q = nn.Linear(channels, channels, bias=qkv_bias)
        self.kv = nn.Linear(channels, 2 * channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)
        if sr_ratio > 1:
            self.sr = nn.Conv2d(channels, channels, sr_ratio + 1, sr_ratio, sr_ratio // 2, groups=channels)
            self.sr_norm = norm_layer(channels)
        self.apply_transform = apply_transform and num_heads > 1
        if self.apply_transform:
            self.transform_conv = nn.Conv2d(num_heads, num_heads, 1)
            self.transform_norm = nn.InstanceNorm2d(num_heads)
            self.dropout = nn.Dropout(attn_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h = x.size(0), self.channels, self.num_heads
        tokens = x.flatten(2).transpose(1, 2)  # (N, HW, C)
        q = self.q(tokens).reshape(n, -1, h, c // h).transpose(1, 2)  # (N, h, HW, d)
        if self.sr_ratio > 1:
            tokens = self.sr_norm(self.sr(x).flatten(2).transpose(1, 2))  # reduced: (N, HW/s^2, C)
        k, v = self.kv(tokens).reshape(n, -1, 2, h, c // h).permute(2, 0, 3, 1, 4)  # 2 x (N, h, HW', d)
        if self.apply_transform:
            logits = torch.matmul(q, k.transpose(-2, -1)) * self.scale  # (N, h, HW, HW')
            # mix the heads: the 1x1 conv's weights as one small matrix product over the head axis (as a
            # conv on CPU it is slow, and oneDNN's 1x1 weight gradient crashes for some batch sizes)
            w, b = self.transform_conv.weight.flatten(1), self.transform_conv.bias
            logits = (w @ logits.flatten(2)).view_as(logits) + b[:, None, None]
            attn = self.dropout(self.transform_norm(logits.softmax(dim=-1)))
            y = torch.matmul(attn, v)  # (N, h, HW, d)
        else:
            drop = self.attn_drop if self.training else 0.0
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, scale=self.scale)
        y = self.proj(y.transpose(1, 2).reshape(n, -1, c))  # (N, HW, C)
        return match_memory_format(y.transpose(1, 2).reshape(x.shape), x)
