"""Global multi-head self-attention (MSA) of the Vision Transformer (ViT).

Paper: "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale", Alexey Dosovitskiy,
Lucas Beyer, Alexander Kolesnikov, Dirk Weissenborn, Xiaohua Zhai, Thomas Unterthiner, Mostafa Dehghani,
Matthias Minderer, Georg Heigold, Sylvain Gelly, Jakob Uszkoreit, Neil Houlsby, ICLR 2021,
https://openreview.net/forum?id=YicbFdNTTy. Official code (JAX/Flax): https://github.com/google-research/vision_transformer
(``vit_jax/models_vit.py``, ``Encoder1DBlock``, which calls Flax's ``nn.MultiHeadDotProductAttention``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_tokens, to_tokens


@register("vit", kind="attention", inputs=(128, 14, 14), channels=128, num_heads=2)
class ViTSelfAttention(nn.Module):
    """ViT's multi-head self-attention: every position attends to every other position of the map.

    The ``H*W`` positions are tokens ``z`` (row-major). For each of ``h`` heads of width ``d = C / h``,
    ``[q, k, v] = z U_qkv`` and ``A = softmax(q k^T / sqrt(d))``; the heads' outputs ``A v`` are concatenated
    and projected, ``MSA(z) = [A_1 v_1, ..., A_h v_h] U_msa``. Memory grows with ``(H*W)^2`` per head.

    Args:
        channels: channels ``C`` (the embedding dimension ``D``; ViT-B: 768).
        num_heads: heads ``h`` (ViT-Ti/S/B/L/H: 3, 6, 12, 16, 16, all with ``d = 64``).
        qkv_bias: biases in the query, key and value projections (official: True, Flax's default).
        attn_drop: dropout on the attention weights (official configurations: 0).
        proj_drop: dropout after the output projection (the block's ``dropout_rate``; official
            configurations: 0 for ViT-Ti/S/B, 0.1 for ViT-L/H; 0 here).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> msa = cvattn.create("vit", channels=128, num_heads=2)
        >>> msa(torch.randn(2, 128, 14, 14)).shape
        torch.Size([2, 128, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map of patch tokens; the class token, position embeddings,
        LayerNorm, MLP and residual of the ViT block are not part of the module. The query, key and value
        kernels are stored as one ``(3C, C)`` linear layer (Flax keeps three ``(C, h, d)`` kernels); each
        ``C x C`` block is initialised Xavier-uniform as in the official code.

    Reference:
        Dosovitskiy, Beyer, Kolesnikov, Weissenborn, Zhai, Unterthiner, Dehghani, Minderer, Heigold, Gelly,
        Uszkoreit, Houlsby. An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale.
        ICLR 2021.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 12,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        self.channels, self.num_heads = channels, num_heads
        self.scale = (channels // num_heads) ** -0.5
        self.attn_drop = attn_drop
        self.qkv = nn.Linear(channels, 3 * channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)
        with torch.no_grad():
            for block in self.qkv.weight.split(channels):  # Xavier-uniform per C x C kernel, zero biases
                nn.init.xavier_uniform_(block)
            nn.init.xavier_uniform_(self.proj.weight)
            nn.init.zeros_(self.proj.bias)
            if qkv_bias:
                nn.init.zeros_(self.qkv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h = x.size(0), self.channels, self.num_heads
        z = to_tokens(x)  # (N, HW, C)
        q, k, v = (
            self.qkv(z).reshape(n, -1, 3, h, c // h).permute(2, 0, 3, 1, 4).unbind(0)
        )  # 3 x (N, h, HW, d)
        drop = self.attn_drop if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, scale=self.scale)  # (N, h, HW, d)
        y = self.proj_drop(self.proj(y.transpose(1, 2).reshape(n, -1, c)))  # (N, HW, C)
        return match_memory_format(from_tokens(y, (x.size(2), x.size(3))), x)
