"""Channel group attention of DaViT.

Paper: "DaViT: Dual Attention Vision Transformers", Mingyu Ding, Bin Xiao, Noel Codella, Ping Luo, Jingdong Wang,
Lu Yuan, ECCV 2022, https://link.springer.com/chapter/10.1007/978-3-031-20053-3_5 (arXiv 2204.03645).
Official code: https://github.com/dingmyu/davit (``timm/models/davit.py``, ``ChannelAttention``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_tokens, to_tokens


@register("davit", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=2)
class DaViTChannelAttention(nn.Module):
    """DaViT channel group attention: self-attention among channel tokens, each spanning the whole image.

    The map's ``H*W`` tokens are projected to ``Q, K, V`` and the channels split into ``N_g`` groups of
    ``C_g = C / N_g``. Transposed, each channel is a token whose feature is its whole ``H*W`` map, so
    within a group ``A_i = softmax(K_i^T V_i / sqrt(C_g))`` is a ``C_g x C_g`` map and the group's output
    is ``(A_i Q_i^T)^T``; the groups are concatenated and projected, ``out = W_o [..]``. (The paper writes
    ``softmax(Q_i^T K_i / sqrt(C_g)) V_i^T``; the official code assigns the three learned projections the
    other way round, which is the same operator with the rows of the qkv weight permuted.) Every output
    position sees the whole image. Memory grows with ``H*W`` linearly: the map is ``C_g^2`` per group.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: channel groups ``N_g`` (DaViT models: ``C / 32``, e.g. 3, 6, 12, 24 in DaViT-T;
            class default 8).
        qkv_bias: bias in the query/key/value projection (DaViT models: True).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> cga = cvattn.create("davit", channels=64, num_heads=2)
        >>> cga(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, HW, C)`` tokens. The official class's
        default is ``qkv_bias=False``; every DaViT model passes True, which is our default.

    Reference:
        Ding, Xiao, Codella, Luo, Wang, Yuan. DaViT: Dual Attention Vision Transformers. ECCV 2022.
    """

    def __init__(self, channels: int, num_heads: int = 8, qkv_bias: bool = True) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        self.channels, self.num_heads = channels, num_heads
        self.scale = (channels // num_heads) ** -0.5
        self.qkv = nn.Linear(channels, 3 * channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, g = x.size(0), self.num_heads
        qkv = self.qkv(to_tokens(x)).reshape(n, -1, 3, g, self.channels // g)
        q, k, v = qkv.permute(2, 0, 3, 4, 1).unbind(0)  # 3 x (N, N_g, C_g, HW): channel tokens
        # softmax(k v^T / sqrt(C_g)) q over the C_g channel tokens of each group, written out: the C_g x C_g map
        # is small and its "head dimension" is HW, for which SDPA's fused CPU kernel is slower (timm's form)
        y = torch.matmul(((k * self.scale) @ v.transpose(-2, -1)).softmax(-1), q)  # (N, N_g, C_g, HW)
        y = self.proj(y.permute(0, 3, 1, 2).reshape(n, -1, self.channels))  # (N, HW, C)
        return match_memory_format(from_tokens(y, x.shape[-2:]), x)
