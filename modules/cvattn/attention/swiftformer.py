"""Efficient additive attention of SwiftFormer.

Paper: "SwiftFormer: Efficient Additive Attention for Transformer-based Real-time Mobile Vision Applications",
Abdelrahman Shaker, Muhammad Maaz, Hanoona Rasheed, Salman Khan, Ming-Hsuan Yang, Fahad Shahbaz Khan, ICCV 2023,
https://arxiv.org/abs/2303.15446. Official code: https://github.com/Amshaker/SwiftFormer
(``models/swiftformer.py``, ``EfficientAdditiveAttnetion``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_tokens, to_tokens


@register("swiftformer", kind="attention", inputs=(64, 14, 14), channels=64)
class EfficientAdditiveAttention(nn.Module):
    """SwiftFormer efficient additive attention: one global query vector modulates every key; no key-value product.

    With tokens ``x_n`` (the ``H*W`` pixels), queries and keys are projected and L2-normalised over channels,
    ``q_n = norm(W_q x_n)``, ``k_n = norm(W_k x_n)``. A learned vector ``w_a`` scores each query,
    ``alpha_n = q_n . w_a / sqrt(d)``, the scores are L2-normalised over the tokens, and the global query
    ``g = sum_n alpha_n q_n`` is formed. The output is ``final(proj(g * k_n) + q_n)`` (element-wise product,
    two linear layers). Memory grows linearly with ``H*W``.

    Args:
        channels: input and output channels ``C`` (the official ``in_dims = token_dim``, as in every SwiftFormer
            block).
        num_heads: widens queries and keys to ``C * num_heads`` channels (1 in every SwiftFormer block; the
            official class default is 2).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> attn = cvattn.create("swiftformer", channels=64)
        >>> attn(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, H*W, C)`` tokens; the token width
        ``token_dim`` is tied to ``channels`` so that the output has the input's shape (the official class
        defaults, ``in_dims=512, token_dim=256``, change the width).

    Reference:
        Shaker, Maaz, Rasheed, Khan, Yang, Khan. SwiftFormer: Efficient Additive Attention for Transformer-based
        Real-time Mobile Vision Applications. ICCV 2023.
    """

    def __init__(self, channels: int, num_heads: int = 1) -> None:
        super().__init__()
        if channels < 1 or num_heads < 1:
            raise ValueError(f"channels and num_heads must be positive, got {channels}, {num_heads}")
        self.channels = channels
        hidden = channels * num_heads
        self.to_query = nn.Linear(channels, hidden)
        self.to_key = nn.Linear(channels, hidden)
        self.w_g = nn.Parameter(torch.randn(hidden, 1))
        self.scale_factor = channels**-0.5
        self.proj = nn.Linear(hidden, hidden)
        self.final = nn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        t = to_tokens(x)  # (N, HW, C)
        q = F.normalize(self.to_query(t), dim=-1)  # (N, HW, D)
        k = F.normalize(self.to_key(t), dim=-1)
        alpha = F.normalize(q @ self.w_g * self.scale_factor, dim=1)  # (N, HW, 1), unit norm over tokens
        g = (alpha * q).sum(dim=1, keepdim=True)  # global query: (N, 1, D)
        out = self.final(self.proj(g * k) + q)  # (N, HW, C)
        return match_memory_format(from_tokens(out, (x.size(2), x.size(3))), x)
