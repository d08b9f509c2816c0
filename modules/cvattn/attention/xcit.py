"""Cross-covariance attention (XCA) of XCiT.

Paper: "XCiT: Cross-Covariance Image Transformers", Alaaeldin El-Nouby, Hugo Touvron, Mathilde Caron,
Piotr Bojanowski, Matthijs Douze, Armand Joulin, Ivan Laptev, Natalia Neverova, Gabriel Synnaeve, Jakob Verbeek,
Hervé Jégou, NeurIPS 2021, https://proceedings.neurips.cc/paper/2021/hash/a655fbe4b8d7439994aa37ddad80de56-Abstract.html
(arXiv 2106.09681). Official code: https://github.com/facebookresearch/xcit (``xcit.py``, ``XCA``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format


@register("xcit", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=8)
class XCA(nn.Module):
    """XCiT cross-covariance attention: attention between channels, not between tokens.

    The ``H*W`` tokens are projected to queries, keys and values and split into ``h`` heads of
    ``d = C / h`` channels. Per head, the ``d x d`` cross-covariance of the L2-normalised queries and keys
    (each channel normalised over the ``H*W`` tokens) is scaled by a learned temperature and its softmax
    weighs the value channels. The paper writes ``XCA(Q, K, V) = V softmax(K_n^T Q_n / tau)``; the official
    code computes ``A = softmax(t * Q_n^T K_n)`` with the learned per-head ``t = 1 / tau``
    (``temperature``), rows indexing query channels, and ``out = proj(A V^T)^T``. Memory grows with
    ``H*W`` linearly: the attention map is ``d^2`` per head, whatever the size.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads ``h`` (XCiT models: 4, 8 or 16; class default 8).
        qkv_bias: bias in the query/key/value projection (XCiT models: True).
        attn_drop: dropout on the attention weights (0).
        proj_drop: dropout after the output projection (0).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> xca = cvattn.create("xcit", channels=64, num_heads=8)
        >>> xca(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, HW, C)`` tokens. The official class's
        default is ``qkv_bias=False``; every XCiT model passes True, which is our default.

    Reference:
        El-Nouby et al. XCiT: Cross-Covariance Image Transformers. NeurIPS 2021.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 8,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        self.channels, self.num_heads = channels, num_heads
        self.attn_drop = attn_drop
        self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.qkv = nn.Linear(channels, 3 * channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, h, c = x.size(0), self.num_heads, self.channels
        # the token-wise linear layers as 1x1 convolutions on the map itself: the same weights, and the
        # channels-as-sequence layout (N, h, d, HW) is then a plain reshape, with no transposes of the tokens
        qkv = F.conv2d(x, self.qkv.weight[:, :, None, None], self.qkv.bias)  # (N, 3C, H, W)
        q, k, v = qkv.reshape(n, 3, h, c // h, -1).unbind(1)  # 3 x (N, h, d, HW)
        q = F.normalize(q, dim=-1)  # each channel L2-normalised over the tokens
        k = F.normalize(k, dim=-1)
        # softmax(t * q k^T) v over the d channels of a head; t scales the small d x d logits
        attn = (q @ k.transpose(-2, -1)) * self.temperature
        attn = F.dropout(attn.softmax(-1), self.attn_drop, self.training)
        y = (attn @ v).reshape(x.shape)  # (N, C, H, W), channels in (head, d) order
        y = self.proj_drop(F.conv2d(y, self.proj.weight[:, :, None, None], self.proj.bias))
        return match_memory_format(y, x)
