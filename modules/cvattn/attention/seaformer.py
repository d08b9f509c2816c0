"""Squeeze-enhanced axial attention (SEA attention) of SeaFormer.

Paper: "SeaFormer: Squeeze-enhanced Axial Transformer for Mobile Semantic Segmentation", Qiang Wan, Zilong Huang,
Jiachen Lu, Gang Yu, Li Zhang, ICLR 2023, https://openreview.net/forum?id=-qg8MQNrxZw (arXiv:2301.13156).
Official code: https://github.com/fudan-zvg/SeaFormer (``seaformer-cls/seaformer.py``, ``Sea_Attention``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input, create_act, match_memory_format


class _SqueezeAxialPositionalEmbedding(nn.Module):
    """A learned ``(1, C, L)`` embedding, linearly interpolated to the squeezed axis' length and added."""

    def __init__(self, dim: int, length: int) -> None:
        super().__init__()
        self.pos_embed = nn.Parameter(torch.randn(1, dim, length))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + F.interpolate(self.pos_embed, size=x.shape[-1], mode="linear", align_corners=False)


@register("seaformer", kind="attention", inputs=(64, 14, 14), channels=64)
class SeaAttention(nn.Module):
    """SEA attention: global attention along squeezed rows and columns, gated onto a detail-enhancing conv branch.

    1x1 conv-BN projections give ``q, k`` (``h`` heads of ``d_k`` channels) and ``v`` (``h`` heads of
    ``r d_k``). Squeeze axial attention averages them over the width, ``q_(h) = mean_w q`` (and likewise ``k``,
    ``v``), adds learned positional embeddings to ``q`` and ``k`` (interpolated to ``H``) and attends among the
    ``H`` rows, ``y_(h) = softmax(q_(h) k_(h)^T / sqrt(d_k)) v_(h)``; the same along the columns gives ``y_(v)``
    over ``W``. Each is encoded by act + 1x1 conv-BN and broadcast back, ``s = v + y_(h) + y_(v)``, then
    projected to ``C`` by act + 1x1 conv-BN. The detail enhancement branch runs a 3x3 depthwise conv-BN, act
    and 1x1 conv-BN on ``[q, k, v]``; the output is ``hsigmoid(proj(s)) * detail``. Memory grows with ``H*W``
    (the attention maps are only ``H^2 + W^2`` per head).

    Args:
        channels: input and output channels ``C``.
        key_dim: per-head width ``d_k`` of queries and keys (SeaFormer: 16 and 24 in the two stages).
        num_heads: heads ``h`` (SeaFormer-T/S/B/L: 4, 6, 8, 8).
        attn_ratio: value width per head as a multiple of ``d_k`` (2).
        pos_length: length of the learned axial positional embeddings before interpolation (16).
        act_layer: activation before the encodings, the projection and in the detail branch (ReLU6, the
            SeaFormer models' ``act_layer``).
        norm_layer: normalisation after every convolution (BatchNorm2d).
        zero_init: start the BN scales of the projection and the two axial encodings at zero, as the official
            code does (default false, see Deviations).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> sea = cvattn.create("seaformer", channels=64, key_dim=16, num_heads=4)
        >>> sea(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        ``zero_init`` defaults to false: the official zero BN scales stop any gradient from reaching the
        queries, keys and positional embeddings at the first step, which the package's gradient check rejects.

    Reference:
        Wan, Huang, Lu, Yu, Zhang. SeaFormer: Squeeze-enhanced Axial Transformer for Mobile Semantic
        Segmentation. ICLR 2023.
    """

    def __init__(
        self,
        channels: int,
        key_dim: int = 16,
        num_heads: int = 4,
        attn_ratio: float = 2,
        pos_length: int = 16,
        act_layer: LayerType = nn.ReLU6,
        norm_layer: LayerType = nn.BatchNorm2d,
        zero_init: bool = False,
    ) -> None:
        super().__init__()
        if min(channels, key_dim, num_heads, pos_length) < 1 or int(attn_ratio * key_dim) < 1:
            raise ValueError("channels, key_dim, num_heads, pos_length and attn_ratio * key_dim must be >= 1")
        self.channels, self.num_heads, self.key_dim = channels, num_heads, key_dim
        self.scale = key_dim**-0.5
        nh_kd, dh = key_dim * num_heads, int(attn_ratio * key_dim) * num_heads
        self.nh_kd, self.dh = nh_kd, dh

        def conv_bn(cin: int, cout: int, k: int = 1, groups: int = 1) -> ConvNormAct:
            return ConvNormAct(cin, cout, k, groups=groups, norm_layer=norm_layer, act_layer=None)

        self.to_q, self.to_k, self.to_v = (
            conv_bn(channels, nh_kd),
            conv_bn(channels, nh_kd),
            conv_bn(channels, dh),
        )
        self.act = create_act(act_layer)
        self.pos_row_q = _SqueezeAxialPositionalEmbedding(nh_kd, pos_length)
        self.pos_row_k = _SqueezeAxialPositionalEmbedding(nh_kd, pos_length)
        self.pos_col_q = _SqueezeAxialPositionalEmbedding(nh_kd, pos_length)
        self.pos_col_k = _SqueezeAxialPositionalEmbedding(nh_kd, pos_length)
        self.encode_row, self.encode_col = conv_bn(dh, dh), conv_bn(dh, dh)
        self.proj = conv_bn(dh, channels)
        self.dwconv = conv_bn(2 * nh_kd + dh, 2 * nh_kd + dh, 3, groups=2 * nh_kd + dh)
        self.pwconv = conv_bn(2 * nh_kd + dh, channels)
        if zero_init:
            for block in (self.encode_row, self.encode_col, self.proj):
                nn.init.zeros_(block.bn.weight)

    def _axial(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Multi-head softmax attention along one squeezed axis: ``(B, h*c, L)`` inputs, ``(B, dh, L)`` output."""
        b, h = q.size(0), self.num_heads
        q = q.reshape(b, h, self.key_dim, -1).transpose(-2, -1)  # (B, h, L, d_k)
        k = k.reshape(b, h, self.key_dim, -1).transpose(-2, -1)  # (B, h, L, d_k)
        v = v.reshape(b, h, self.dh // h, -1).transpose(-2, -1)  # (B, h, L, r d_k)
        y = F.scaled_dot_product_attention(q, k, v, scale=self.scale)  # (B, h, L, r d_k)
        return y.transpose(-2, -1).reshape(b, self.dh, -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        q, k, v = self.to_q(x), self.to_k(x), self.to_v(x)
        detail = self.pwconv(self.act(self.dwconv(torch.cat((q, k, v), dim=1))))  # detail enhancement
        # squeeze along the width: H row tokens; along the height: W column tokens
        y_row = self._axial(self.pos_row_q(q.mean(-1)), self.pos_row_k(k.mean(-1)), v.mean(-1))  # (B, dh, H)
        y_col = self._axial(self.pos_col_q(q.mean(-2)), self.pos_col_k(k.mean(-2)), v.mean(-2))  # (B, dh, W)
        y_row = self.encode_row(self.act(y_row.unsqueeze(-1)))  # (B, dh, H, 1)
        y_col = self.encode_col(self.act(y_col.unsqueeze(-2)))  # (B, dh, 1, W)
        s = v + (y_row + y_col)  # broadcast back over the squeezed axes
        y = F.relu6(self.proj(self.act(s)) + 3) / 6 * detail  # h-sigmoid gate
        return match_memory_format(y, x)
