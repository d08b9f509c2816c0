"""Efficient self-attention (sequence reduction) of SegFormer's Mix Transformer encoder.

Paper: "SegFormer: Simple and Efficient Design for Semantic Segmentation with Transformers", Enze Xie, Wenhai
Wang, Zhiding Yu, Anima Anandkumar, Jose M. Alvarez, Ping Luo, NeurIPS 2021,
https://proceedings.neurips.cc/paper/2021/hash/64f1f27bf1b4ec22924fd0acb550c235-Abstract.html (arXiv 2105.15203).
Official code: https://github.com/NVlabs/SegFormer (``mmseg/models/backbones/mix_transformer.py``, ``Attention``).
"""

from __future__ import annotations

from .._registry import register
from .pvt import SpatialReductionAttention


@register(
    "segformer", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=2, sr_ratio=4, qkv_bias=True
)
class EfficientSelfAttention(SpatialReductionAttention):
    """SegFormer efficient self-attention: attention whose key/value sequence is shortened ``R`` times.

    The paper shortens the ``N = H*W`` keys by ``K' = Linear(C R, C)(Reshape(N / R, C R)(K))`` with reduction
    ratio ``R``; the official code does this with an ``s x s`` convolution of stride ``s`` (``R = s^2``,
    ``s = sr_ratio``) followed by LayerNorm, and takes keys and values from the shortened sequence:
    ``Y = proj(concat_i softmax(Q_i K_i^T * scale) V_i)`` with ``Q = X W_q``, ``K, V = LN(Conv_s(X)) W_kv``
    and ``scale = d^-1/2`` for head dimension ``d = C / heads``. The computation is that of PVT's
    spatial-reduction attention (``pvt``), which the official class repeats. Memory grows with
    ``(H*W)^2 / R`` per head. When ``H`` or ``W`` is not a multiple of ``s`` the strided conv drops the last rows
    and columns, as the official code does.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: attention heads (official default 8; the MiT encoders use 1, 2, 5, 8).
        qkv_bias: bias in the query and key/value projections (official default False; the MiT encoders pass
            True).
        qk_scale: the attention scale; ``None`` means ``(C / num_heads) ** -0.5`` (official default).
        attn_drop: dropout on the attention weights (official default 0).
        proj_drop: dropout after the output projection (official default 0).
        sr_ratio: side ``s`` of the reduction (official default 1; the MiT stages use 8, 4, 2, 1, i.e.
            ``R = 64, 16, 4, 1``).
        norm_layer: normalisation of the reduced tokens (LayerNorm, fixed in the official code).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> attn = cvattn.create("segformer", channels=64, num_heads=2, sr_ratio=4)
        >>> attn(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, H*W, C)`` tokens plus ``H, W``.

    Reference:
        Xie et al. SegFormer: Simple and Efficient Design for Semantic Segmentation with Transformers.
        NeurIPS 2021.
    """
