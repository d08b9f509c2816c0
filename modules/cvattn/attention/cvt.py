"""Convolutional projection attention of the Convolutional vision Transformer (CvT).

Paper: "CvT: Introducing Convolutions to Vision Transformers", Haiping Wu, Bin Xiao, Noel Codella, Mengchen Liu,
Xiyang Dai, Lu Yuan, Lei Zhang, ICCV 2021, https://arxiv.org/abs/2103.15808. Official code:
https://github.com/microsoft/CvT (``lib/models/cls_cvt.py``, ``Attention``).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_tokens, to_tokens

_METHODS = ("dw_bn", "avg")


@register("cvt", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=1, stride_kv=2, qkv_bias=True)
class ConvolutionalProjectionAttention(nn.Module):
    """CvT attention: queries, keys and values from a depthwise convolutional projection of the map.

    With ``method="dw_bn"`` each of ``q, k, v`` is ``Linear(BN(DWConv_{k x k}(X)))``: a depthwise ``k x k``
    convolution without bias (stride 1 and padding ``k // 2`` for queries, stride ``s`` and padding ``p`` for
    keys and values, ``s = stride_kv``), BatchNorm, then a linear projection. With ``method="avg"`` queries are
    the plain tokens and keys/values an average pooling (ceil mode) before the projection.
    ``Y = proj(concat_i softmax(Q_i K_i^T * scale) V_i)`` with ``scale = C^-1/2``: the official code scales by
    the full width ``C``, not the head width. Memory grows with ``(H*W)^2 / s^2`` per head.

    Args:
        channels: channels ``C`` (``dim_in = dim_out`` of the official class).
        num_heads: attention heads (required by the official class, no default there; 1 here; CvT-13 stages
            use 1, 3, 6).
        qkv_bias: bias in the query/key/value projections (official default False; the CvT models pass True).
        attn_drop: dropout on the attention weights (official default 0).
        proj_drop: dropout after the output projection (official default 0).
        method: ``"dw_bn"`` (official default, used by every CvT model) or ``"avg"``.
        kernel_size: kernel ``k`` of the convolutional projection (official default 3).
        stride_kv: stride ``s`` of the key/value projection (official default 1; the CvT models use 2).
        padding_kv: padding ``p`` of the key/value projection (official default 1).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> attn = cvattn.create("cvt", channels=64, num_heads=1, stride_kv=2)
        >>> attn(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, 1 + H*W, C)`` or ``(N, H*W, C)`` tokens plus
        ``H, W``. There is no class token (``with_cls_token=False``; CvT adds one only in its last stage, where
        it bypasses the convolutional projection). The query projection keeps stride 1 and padding
        ``kernel_size // 2`` (the official ``stride_q`` and ``padding_q`` defaults, used by every CvT model), so
        the output has the input's size; ``method="linear"`` is not offered (the official forward leaves
        ``q, k, v`` undefined in that case).

    Reference:
        Wu et al. CvT: Introducing Convolutions to Vision Transformers. ICCV 2021.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 1,
        qkv_bias: bool = False,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
        method: str = "dw_bn",
        kernel_size: int = 3,
        stride_kv: int = 1,
        padding_kv: int = 1,
    ) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd integer, got {kernel_size}")
        if stride_kv < 1 or padding_kv < 0:
            raise ValueError(f"stride_kv must be >= 1 and padding_kv >= 0, got {stride_kv}, {padding_kv}")
        self.channels, self.num_heads, self.method = channels, num_heads, method
        self.scale = channels**-0.5
        self.attn_drop = attn_drop
        q_pad = kernel_size // 2
        if method == "dw_bn":
            self.conv_proj_q = self._dw_bn(channels, kernel_size, 1, q_pad)
            self.conv_proj_k = self._dw_bn(channels, kernel_size, stride_kv, padding_kv)
            self.conv_proj_v = self._dw_bn(channels, kernel_size, stride_kv, padding_kv)
        else:  # queries stay the plain tokens
            self.conv_proj_q = nn.Identity()
            self.conv_proj_k = nn.AvgPool2d(kernel_size, stride_kv, padding_kv, ceil_mode=True)
            self.conv_proj_v = nn.AvgPool2d(kernel_size, stride_kv, padding_kv, ceil_mode=True)
        self.proj_q = nn.Linear(channels, channels, bias=qkv_bias)
        self.proj_k = nn.Linear(channels, channels, bias=qkv_bias)
        self.proj_v = nn.Linear(channels, channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)

    @staticmethod
    def _dw_bn(channels: int, kernel_size: int, stride: int, padding: int) -> nn.Sequential:
        conv = nn.Conv2d(channels, channels, kernel_size, stride, padding, groups=channels, bias=False)
        return nn.Sequential(OrderedDict(conv=conv, bn=nn.BatchNorm2d(channels)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h = x.size(0), self.channels, self.num_heads
        q = self.proj_q(to_tokens(self.conv_proj_q(x)))  # (N, HW, C)
        k = self.proj_k(to_tokens(self.conv_proj_k(x)))  # (N, HW/s^2, C)
        v = self.proj_v(to_tokens(self.conv_proj_v(x)))
        q, k, v = (t.reshape(n, -1, h, c // h).transpose(1, 2) for t in (q, k, v))  # (N, h, L, d)
        drop = self.attn_drop if self.training else 0.0
        context = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, scale=self.scale)  # (N, h, HW, d)
        y = self.proj_drop(self.proj(context.transpose(1, 2).reshape(n, -1, c)))  # (N, HW, C)
        return match_memory_format(from_tokens(y, (x.shape[-2], x.shape[-1])), x)
