"""Inverted Residual Mobile Block (iRMB) of EMO.

Paper: "Rethinking Mobile Block for Efficient Attention-based Models", Jiangning Zhang, Xiangtai Li, Jian Li,
Liang Liu, Zhucun Xue, Boshen Zhang, Zhengkai Jiang, Tianxin Huang, Yabiao Wang, Chengjie Wang, ICCV 2023,
https://arxiv.org/abs/2301.01146. Official code: https://github.com/zhangzjn/EMO (``model/emo.py``, ``iRMB``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input, create_act


@register("emo", kind="block", inputs=(64, 14, 14), in_channels=64, out_channels=64)
class IRMB(nn.Module):
    """iRMB: norm, window self-attention with an expanding value projection, residual depthwise conv, 1x1 proj.

    The Meta Mobile Block unifies the inverted residual block and the transformer block as
    ``x + Proj(F(Expand(Norm(x))))``; iRMB instantiates ``F`` as an efficient operator: window multi-head
    self-attention (EW-MHSA) in which queries and keys come from the ``C``-channel input while the values
    are projected to the expanded ``lambda C`` channels (with an activation), followed by a depthwise
    ``K x K`` conv (BN, SiLU) with its own residual; a 1x1 conv projects back to ``out_channels``. The map
    is zero-padded at the bottom and right to a multiple of the window ``M`` and split, as the official
    code does, into ``M x M`` windows whose tokens lie ``H / M`` rows and ``W / M`` columns apart (a
    dilated grid spanning the whole map, not contiguous tiles); padded tokens take part as keys. Without
    attention (``attn=False``) the block is a plain inverted residual: 1x1 expansion, depthwise conv, 1x1
    projection.

    Args:
        in_channels: input channels ``C`` (a multiple of ``dim_head`` when ``attn``).
        out_channels: output channels; the outer residual is used when they equal ``in_channels`` and
            ``stride == 1``.
        exp_ratio: expansion ratio ``lambda`` of the value projection (hidden channels ``int(C lambda)``).
        dim_head: channels per attention head (heads ``= C / dim_head``).
        window_size: window ``M``; ``0`` or less attends over the whole map.
        kernel_size: kernel of the depthwise conv (EMO: 3 in the first stages, 5 in the last).
        stride: stride of the depthwise conv.
        dilation: dilation of the depthwise conv.
        attn: use window self-attention (official ``attn_s``); ``False`` gives the attention-free block.
        attn_pre: apply the attention to the ``C`` input channels and the value projection after it (as every
            EMO model does) instead of to the projected values (the class default).
        qkv_bias: bias in the query/key and value 1x1 convs (official class default False; EMO models True).
        v_proj: expand with the 1x1 value conv when ``attn`` is False (False: identity, ``exp_ratio`` 1).
        v_group: group the value conv by heads.
        norm_in: normalise the input (BN by default).
        has_skip: use the residuals (when shapes allow).
        norm_layer: input normalisation, called as ``norm_layer(in_channels, eps=norm_eps)``.
        norm_eps: epsilon of the input norm and of the depthwise conv's BN (official: 1e-6).
        act_layer: activation of the value projection (official class default: ReLU; EMO models: SiLU, GELU).

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H', W')``, ``H' = (H + 2 ceil((K - stride) / 2) - dilation (K - 1) - 1) // stride + 1``

    Examples:
        >>> import torch, cvattn
        >>> block = cvattn.create("emo", in_channels=64, out_channels=64, exp_ratio=4.0, dim_head=32)
        >>> block(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        No squeeze-excitation (the official ``se_ratio``, used by EMO only in its attention-free stem block),
        dropout or drop path. Attention runs through ``F.scaled_dot_product_attention``, and the 1x1 convs
        are applied to the whole padded map before the window split (the same numbers: they act per pixel).

    Reference:
        Zhang et al. Rethinking Mobile Block for Efficient Attention-based Models. ICCV 2023.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        exp_ratio: float = 1.0,
        dim_head: int = 64,
        window_size: int = 7,
        kernel_size: int = 3,
        stride: int = 1,
        dilation: int = 1,
        attn: bool = True,
        attn_pre: bool = False,
        qkv_bias: bool = False,
        v_proj: bool = True,
        v_group: bool = False,
        norm_in: bool = True,
        has_skip: bool = True,
        norm_layer: LayerType = nn.BatchNorm2d,
        norm_eps: float = 1e-6,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__()
        hidden = int(in_channels * exp_ratio)
        if attn and in_channels % dim_head:
            raise ValueError(f"in_channels ({in_channels}) must be divisible by dim_head ({dim_head})")
        self.in_channels = in_channels
        self.hidden = hidden
        self.has_skip = has_skip and in_channels == out_channels and stride == 1
        self.attn = attn
        self.attn_pre = attn_pre
        self.window_size = window_size
        self.num_heads = in_channels // dim_head if attn else 0
        self.norm = (
            norm_layer(in_channels, eps=norm_eps) if norm_in and norm_layer is not None else nn.Identity()
        )
        if attn:
            self.qk = nn.Conv2d(in_channels, 2 * in_channels, 1, bias=qkv_bias)
        if attn or v_proj:
            groups = self.num_heads if attn and v_group else 1
            self.v = nn.Sequential(
                nn.Conv2d(in_channels, hidden, 1, groups=groups, bias=qkv_bias), create_act(act_layer, True)
            )
        else:
            self.v = nn.Identity()
        self.conv_local = ConvNormAct(
            hidden,
            hidden,
            kernel_size,
            stride,
            -(-(kernel_size - stride) // 2),  # the official ceil((k - s) / 2)
            dilation,
            groups=hidden,
            norm_layer=lambda c: nn.BatchNorm2d(c, eps=norm_eps),
            act_layer=nn.SiLU,
        )
        self.proj = nn.Conv2d(hidden, out_channels, 1, bias=False)

    @staticmethod
    def _windows(t: torch.Tensor, heads: int, b: int, n1: int, n2: int, m1: int, m2: int) -> torch.Tensor:
        """``(B, heads * d, m1 n1, m2 n2) -> (B n1 n2, heads, m1 m2, d)``: window ``(i, j)`` takes rows ``i::n1``."""
        d = t.shape[1] // heads
        t = t.reshape(b, heads, d, m1, n1, m2, n2)
        return t.permute(0, 4, 6, 1, 3, 5, 2).reshape(b * n1 * n2, heads, m1 * m2, d)

    def _merge(self, t: torch.Tensor, b: int, n1: int, n2: int, m1: int, m2: int) -> torch.Tensor:
        """Inverse of :meth:`_windows`: ``(B n1 n2, heads, m1 m2, d) -> (B, heads * d, m1 n1, m2 n2)``."""
        d = t.shape[-1]
        t = t.reshape(b, n1, n2, self.num_heads, m1, m2, d)
        return t.permute(0, 3, 6, 4, 1, 5, 2).reshape(b, self.num_heads * d, m1 * n1, m2 * n2)

    def window_attention(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        m1, m2 = (self.window_size, self.window_size) if self.window_size > 0 else (h, w)
        pad_b, pad_r = (m1 - h % m1) % m1, (m2 - w % m2) % m2
        x = F.pad(x, (0, pad_r, 0, pad_b))
        n1, n2 = (h + pad_b) // m1, (w + pad_r) // m2
        qk = self._windows(self.qk(x), 2 * self.num_heads, b, n1, n2, m1, m2)  # (B n1 n2, 2 heads, M M, d)
        q, k = qk.chunk(2, dim=1)
        if self.attn_pre:
            context = F.scaled_dot_product_attention(
                q, k, self._windows(x, self.num_heads, b, n1, n2, m1, m2)
            )
            return self.v(self._merge(context, b, n1, n2, m1, m2)[:, :, :h, :w])
        v = self._windows(self.v(x), self.num_heads, b, n1, n2, m1, m2)
        context = F.scaled_dot_product_attention(q, k, v)
        return self._merge(context, b, n1, n2, m1, m2)[:, :, :h, :w]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        shortcut = x
        x = self.norm(x)
        x = self.window_attention(x) if self.attn else self.v(x)
        x = x + self.conv_local(x) if self.has_skip else self.conv_local(x)
        x = self.proj(x)
        return shortcut + x if self.has_skip else x
