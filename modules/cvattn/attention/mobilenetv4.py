"""Mobile MQA of MobileNetV4: multi-query attention with spatially reduced keys and values.

Paper: "MobileNetV4: Universal Models for the Mobile Ecosystem", Danfeng Qin, Chas Leichner, Manolis Delakis,
Marco Fornoni, Shixin Luo, Fan Yang, Weijun Wang, Colby Banbury, Chengxi Ye, Berkin Akin, Vaibhav Aggarwal,
Tenghui Zhu, Daniele Moro, Andrew Howard, ECCV 2024, https://arxiv.org/abs/2404.10518. Official code (TensorFlow):
https://github.com/tensorflow/models (``official/vision/modeling/layers/nn_blocks.py``,
``OptimizedMultiQueryAttentionLayerWithDownSampling`` and ``MultiQueryAttentionLayerV2``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import to_tokens


def _same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow ``padding='same'`` for ``kernel >= stride``: ``(before, after)``, the extra one after."""
    total = (-(-size // stride) - 1) * stride + kernel - size
    return total // 2, total - total // 2


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)  # Keras defaults: epsilon 1e-3, momentum 0.99


@register(
    "mobilenetv4-mqa",
    kind="attention",
    inputs=(64, 14, 14),
    channels=64,
    num_heads=4,
    key_dim=16,
    value_dim=16,
    kv_strides=2,
)
class MobileMQA(nn.Module):
    """MobileNetV4 Mobile MQA: every head has its own queries, all heads share one key and one value map.

    Queries ``q = W_q x`` have ``num_heads`` heads of ``key_dim`` channels (optionally computed on an average-
    pooled map, ``query_*_strides``, then upsampled bilinearly). Keys and values are single maps,
    ``k = W_k DW_s(x)`` and ``v = W_v DW_s(x)``, where ``DW_s`` is a depthwise ``dw_kernel_size`` convolution
    with stride ``s = kv_strides`` followed by BatchNorm (absent for ``s = 1``). Each head computes
    ``softmax(q_h k^T / sqrt(key_dim)) v``; the heads are concatenated and projected by a 1x1 convolution. No
    convolution has a bias, and padding follows TensorFlow's ``'same'`` rule (the extra row and column at the
    bottom and right). Memory grows with ``(H*W)^2 / s^2`` per head.

    Args:
        channels: input and output channels ``C``.
        num_heads: query heads (8, the default of the official ``MultiHeadSelfAttentionBlock``; the MNv4
            hybrid models use 4).
        key_dim: channels of each query head and of the shared key (64).
        value_dim: channels of the shared value (64).
        query_h_strides: vertical average-pooling of the queries (1).
        query_w_strides: horizontal average-pooling of the queries (1).
        kv_strides: stride ``s`` of the depthwise reduction of keys and values (1; MNv4 hybrid models: 2 at
            24x24 maps, 1 at 12x12).
        dw_kernel_size: kernel of the depthwise reduction (3); at least ``kv_strides``.
        dropout: dropout on the attention weights (0).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> mqa = cvattn.create(
        ...     "mobilenetv4-mqa", channels=64, num_heads=4, key_dim=16, value_dim=16, kv_strides=2
        ... )
        >>> mqa(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Works on any ``H, W``: the official layer reshapes with the input height for both sides (square maps
        only) and needs sides divisible by the query strides; here pooled queries use TensorFlow's ``'same'``
        pooling (averaging the valid pixels) and are resized back to exactly ``H x W``. BatchNorm uses the
        Keras defaults (``eps=1e-3``, PyTorch ``momentum=0.01``).

    Reference:
        Qin et al. MobileNetV4: Universal Models for the Mobile Ecosystem. ECCV 2024.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 8,
        key_dim: int = 64,
        value_dim: int = 64,
        query_h_strides: int = 1,
        query_w_strides: int = 1,
        kv_strides: int = 1,
        dw_kernel_size: int = 3,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if min(channels, num_heads, key_dim, value_dim, query_h_strides, query_w_strides, kv_strides) < 1:
            raise ValueError("channels, heads, dimensions and strides must be positive")
        if kv_strides > 1 and dw_kernel_size < kv_strides:
            raise ValueError(f"dw_kernel_size ({dw_kernel_size}) must be at least kv_strides ({kv_strides})")
        self.channels, self.num_heads, self.key_dim, self.value_dim = channels, num_heads, key_dim, value_dim
        self.q_strides, self.kv_strides, self.dw_kernel_size = (
            (query_h_strides, query_w_strides),
            kv_strides,
            dw_kernel_size,
        )
        self.dropout = dropout
        self.query_downsample = query_h_strides > 1 or query_w_strides > 1
        if self.query_downsample:
            self.query_downsampling_norm = _bn(channels)
        self.query_proj = nn.Conv2d(channels, num_heads * key_dim, 1, bias=False)
        if kv_strides > 1:
            self.key_dw_conv = nn.Conv2d(
                channels, channels, dw_kernel_size, kv_strides, groups=channels, bias=False
            )
            self.key_dw_norm = _bn(channels)
            self.value_dw_conv = nn.Conv2d(
                channels, channels, dw_kernel_size, kv_strides, groups=channels, bias=False
            )
            self.value_dw_norm = _bn(channels)
        self.key_proj = nn.Conv2d(channels, key_dim, 1, bias=False)
        self.value_proj = nn.Conv2d(channels, value_dim, 1, bias=False)
        self.output_proj = nn.Conv2d(num_heads * value_dim, channels, 1, bias=False)

    def _pool_queries(self, x: torch.Tensor) -> torch.Tensor:
        """Average pooling with TensorFlow ``'same'`` padding: padded pixels are left out of the mean."""
        (sh, sw), h, w = self.q_strides, x.size(2), x.size(3)
        top, bottom = _same_pads(h, sh, sh)
        left, right = _same_pads(w, sw, sw)
        pads = (left, right, top, bottom)
        ones = torch.ones_like(x[:1, :1])
        return F.avg_pool2d(F.pad(x, pads), (sh, sw)) / F.avg_pool2d(F.pad(ones, pads), (sh, sw))

    def _reduce(self, x: torch.Tensor, conv: nn.Conv2d, norm: nn.Module) -> torch.Tensor:
        """Strided depthwise convolution with TensorFlow ``'same'`` padding, then BatchNorm."""
        k, s = self.dw_kernel_size, self.kv_strides
        top, bottom = _same_pads(x.size(2), k, s)
        left, right = _same_pads(x.size(3), k, s)
        return norm(conv(F.pad(x, (left, right, top, bottom))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, h, w = x.size(0), x.size(2), x.size(3)
        xq = self.query_downsampling_norm(self._pool_queries(x)) if self.query_downsample else x
        q = self.query_proj(xq)  # (N, heads * key_dim, H_q, W_q)
        hq, wq = q.size(2), q.size(3)
        q = to_tokens(q).reshape(
            n, -1, self.key_dim
        )  # heads as extra query rows: (N, H_q W_q heads, key_dim)
        if self.kv_strides > 1:
            k = self.key_proj(self._reduce(x, self.key_dw_conv, self.key_dw_norm))
            v = self.value_proj(self._reduce(x, self.value_dw_conv, self.value_dw_norm))
        else:
            k, v = self.key_proj(x), self.value_proj(x)
        k, v = to_tokens(k), to_tokens(v)  # shared by all heads: (N, H_kv W_kv, key_dim / value_dim)
        drop = self.dropout if self.training else 0.0
        # 4-D with a singleton head axis and unit stride in the last one: what the fused (flash) CPU kernel
        # takes; anything else falls back to the math kernel, which materialises the attention matrix
        q, k, v = (t.contiguous()[:, None] for t in (q, k, v))
        o = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, scale=self.key_dim**-0.5)[:, 0]
        o = o.reshape(n, hq, wq, self.num_heads * self.value_dim).permute(
            0, 3, 1, 2
        )  # (N, heads * value_dim, H_q, W_q)
        if self.query_downsample:
            o = F.interpolate(o, size=(h, w), mode="bilinear", align_corners=False)
        return match_memory_format(self.output_proj(o), x)
