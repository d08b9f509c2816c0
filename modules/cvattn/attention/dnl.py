"""Disentangled non-local block (DNL): a whitened pairwise term plus a separate unary term.

Paper: "Disentangled Non-local Neural Networks", Minghao Yin, Zhuliang Yao, Yue Cao, Xiu Li, Zheng Zhang, Stephen Lin,
Han Hu, ECCV 2020, https://arxiv.org/abs/2006.06668. Official code: https://github.com/yinmh17/DNL-Semantic-Segmentation
(``model/seg/ops/nonlocal_block.py``, ``NonLocal2d_bn``, with the DNL configuration of
``configs/seg/cityscapes/NLin_fcn_cityscapes_seg.conf``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_tokens, to_tokens


@register("dnl", kind="attention", inputs=(64, 14, 14), channels=64)
class DisentangledNonLocal(nn.Module):
    """Disentangled non-local block: whitened pairwise attention plus a unary (global context) term.

    With queries ``q = W_q x``, keys ``k = W_k x`` (1x1 convs to ``C' = C / reduction``) and values
    ``v = W_v x`` (1x1 conv, ``C`` channels), the output is
    ``y_i = x_i + gamma * sum_j softmax_j((q_i - mu_q)^T (k_j - mu_k) / (sqrt(C') tau)) v_j
    + sum_j softmax_j(W_m x_j) v_j``, where ``mu_q`` and ``mu_k`` are the means over the positions
    (the whitening), ``tau`` the temperature and ``W_m`` a 1x1 conv to one channel (the unary term, as in
    GCNet). With ``downsample`` the keys, values and unary logits come from a 2x2 max-pooled map. Memory grows
    with ``(H*W)^2`` (``(H*W)^2 / 4`` with ``downsample``).

    Args:
        channels: input channels ``C``.
        reduction: query/key width ``C' = C / reduction`` (official: 2, ``inter_channels // 2``).
        temperature: softmax temperature ``tau`` of the pairwise term (official DNL configuration: 0.05).
        whiten: subtract the mean query and key over the positions (official DNL: ``whiten_type=['channel']``).
        unary: add the unary term (official DNL: ``with_gc=True``); without whitening and unary this is a plain
            non-local block with a scaled, tempered softmax.
        downsample: 2x2 max-pool (stride 2, floor) before the keys, values and unary logits (official DNL
            configuration: False; class default True).
        use_out: values to ``C'`` channels and a 1x1 output conv back to ``C`` (official DNL: False).
        out_bn: BatchNorm after the output (official DNL: False).
        zero_init: start ``gamma`` at 0 as the official code (default false: 0.1, see Deviations).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> dnl = cvattn.create("dnl", channels=64)
        >>> dnl(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        ``gamma`` starts at 0.1 unless ``zero_init``: at 0 no gradient reaches the query and key convolutions at
        the first step, which the package's gradient check rejects. The official research switches for other
        whitenings (``spatial``, ``bn``, ``ln_nostd``) and ``with_unary`` are not reproduced, nor its
        ``N(0, 0.01)`` weight initialisation and ``lr_mult`` attributes (training-time settings).

    Reference:
        Yin, Yao, Cao, Li, Zhang, Lin, Hu. Disentangled Non-local Neural Networks. ECCV 2020.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 2,
        temperature: float = 0.05,
        whiten: bool = True,
        unary: bool = True,
        downsample: bool = False,
        use_out: bool = False,
        out_bn: bool = False,
        zero_init: bool = False,
    ) -> None:
        super().__init__()
        if reduction <= 0 or channels < reduction:
            raise ValueError(f"reduction must be in [1, channels ({channels})], got {reduction}")
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        planes = channels // reduction
        self.channels, self.whiten, self.unary = channels, whiten, unary
        self.scale = 1.0 / (math.sqrt(planes) * temperature)
        self.conv_query = nn.Conv2d(channels, planes, 1)
        self.conv_key = nn.Conv2d(channels, planes, 1)
        if use_out:
            self.conv_value = nn.Conv2d(channels, planes, 1)
            self.conv_out = nn.Conv2d(planes, channels, 1, bias=False)
        else:
            self.conv_value = nn.Conv2d(channels, channels, 1, bias=False)
            self.conv_out = None
        self.out_bn = nn.BatchNorm2d(channels) if out_bn else None
        self.conv_mask = nn.Conv2d(channels, 1, 1) if unary else None
        self.pool = nn.MaxPool2d(2, 2) if downsample else None
        self.gamma = nn.Parameter(torch.zeros(1) if zero_init else torch.full((1,), 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        x_kv = self.pool(x) if self.pool is not None else x
        q = to_tokens(self.conv_query(x))  # (N, HW, C')
        k = to_tokens(self.conv_key(x_kv))  # (N, H'W', C')
        v = to_tokens(self.conv_value(x_kv))  # (N, H'W', C_v)
        if self.whiten:
            q = q - q.mean(1, keepdim=True)  # mu_q: mean over the positions
            k = k - k.mean(1, keepdim=True)
        pairwise = F.scaled_dot_product_attention(q, k, v, scale=self.scale)  # (N, HW, C_v)
        y = self.gamma * from_tokens(pairwise, x.shape[-2:])
        if self.conv_mask is not None:
            m = self.conv_mask(x_kv).flatten(1).softmax(dim=1)  # unary weights over the positions: (N, H'W')
            y = y + torch.bmm(m.unsqueeze(1), v).transpose(1, 2).unsqueeze(-1)  # (N, C_v, 1, 1), broadcast
        if self.conv_out is not None:
            y = self.conv_out(y)
        if self.out_bn is not None:
            y = self.out_bn(y)
        return match_memory_format(y + x, x)
