"""Bilinear attentional transform (BAT) block.

Paper: "Non-Local Neural Networks With Grouped Bilinear Attentional Transforms", Lu Chi, Zehuan Yuan, Yadong Mu,
Changhu Wang, CVPR 2020,
https://openaccess.thecvf.com/content_CVPR_2020/html/Chi_Non-Local_Neural_Networks_With_Grouped_Bilinear_Attentional_Transforms_CVPR_2020_paper.html.
Official code: https://github.com/BA-Transform/BAT-Image-Classification (``model_zoo/non_local.py``:
``BATransform``, ``BATBlock``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input


class _BATransform(nn.Module):
    """Grouped bilinear transform ``Y = (P kron I) X (Q kron I)``, then a 1x1 conv-BN-ReLU."""

    def __init__(self, channels: int, s: int, k: int, norm_layer: LayerType, act_layer: LayerType) -> None:
        super().__init__()
        common = dict(bias=True, norm_layer=norm_layer, act_layer=act_layer, inplace=False)
        self.s, self.k = s, k
        self.conv1 = ConvNormAct(channels, k, 1, **common)
        self.conv_p = nn.Conv2d(k, s * s * k, (s, 1))  # from the s row-pooled descriptors
        self.conv_q = nn.Conv2d(k, s * s * k, (1, s))  # from the s column-pooled descriptors
        self.conv2 = ConvNormAct(channels, channels, 1, **common)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.size(0), x.size(1), x.size(2), x.size(3)
        s, k = self.s, self.k
        a = self.conv1(x)  # (N, k, H, W)
        p = torch.sigmoid(self.conv_p(F.adaptive_max_pool2d(a, (s, 1))).view(n, k, s, s))
        q = torch.sigmoid(self.conv_q(F.adaptive_max_pool2d(a, (1, s))).view(n, k, s, s))
        p = p / p.sum(dim=3, keepdim=True)  # rows of P sum to 1
        q = q / q.sum(dim=2, keepdim=True)  # columns of Q sum to 1
        # zero-pad H and W up to multiples of s: row b*th + u of the padded map is cell (b, u)
        pad_h, pad_w = (s - h % s) % s, (s - w % s) % s
        th, tw = (h + pad_h) // s, (w + pad_w) // s
        xp = F.pad(x, (0, pad_w, 0, pad_h)).reshape(n, k, c // k, s, th, s, tw)
        # (P kron I_th) X (Q kron I_tw), group g of the channels using the g-th P and Q
        y = torch.einsum("nkab,nkgbudv,nkdc->nkgaucv", p, xp, q).reshape(n, c, s * th, s * tw)
        return self.conv2(y[:, :, :h, :w])


@register("bat", kind="attention", inputs=(64, 14, 14), channels=64)
class BATBlock(nn.Module):
    """BAT block: a residual non-local block whose global operator is a grouped bilinear attentional transform.

    The input is reduced to ``C/r`` channels by a 1x1 conv-BN-ReLU, giving ``X``. A second conv-BN-ReLU to
    ``k`` channels is max-pooled into ``s`` row and ``s`` column descriptors, from which ``[s, 1]`` and
    ``[1, s]`` convolutions predict, per group ``g`` of ``C/(r k)`` channels, two ``s x s`` matrices:
    ``P_g = rownorm(sigmoid(.))`` and ``Q_g = colnorm(sigmoid(.))``. Each group is transformed bilinearly,
    ``Y_g = (P_g kron I_{H/s}) X_g (Q_g kron I_{W/s})``, which mixes whole rows and whole columns of the map
    at stride ``H/s`` and ``W/s``; ``Y`` passes a 1x1 conv-BN-ReLU, the block's 1x1 conv-BN-ReLU back to
    ``C``, Dropout2d, and is added to the input. Memory grows linearly with ``H*W`` (the transforms are
    ``s x s``).

    Args:
        channels: input and output channels ``C``.
        r: channel reduction of the block (official: 2).
        s: size of the attentional transforms (official ``BATBlock`` default 4; the ImageNet models use
            ``--nlsize 7``, the default here).
        k: number of groups, each with its own transforms (official: 4).
        dropout: Dropout2d rate before the residual sum (official: 0.2).
        norm_layer: normalisation of every conv-norm-act (BatchNorm2d).
        act_layer: activation of every conv-norm-act (ReLU).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> bat = cvattn.create("bat", channels=64)
        >>> bat(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The official ``BATransform`` accepts only square maps whose side is a multiple of ``s`` (it builds
        both Kronecker factors from ``H // s``). Here any ``H x W`` is accepted: the map is zero-padded at
        the bottom and right to multiples of ``s`` for the transform (rows and columns with their own
        ``H'/s`` and ``W'/s``) and cropped back; the row and column descriptors are pooled from the
        unpadded map. On square maps with a side divisible by ``s`` the two agree exactly. The official
        initialisation (Kaiming normal convolutions) is not applied.

    Reference:
        Chi, Yuan, Mu, Wang. Non-Local Neural Networks With Grouped Bilinear Attentional Transforms. CVPR 2020.
    """

    def __init__(
        self,
        channels: int,
        r: int = 2,
        s: int = 7,
        k: int = 4,
        dropout: float = 0.2,
        norm_layer: LayerType = nn.BatchNorm2d,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__()
        if min(channels, r, s, k) < 1:
            raise ValueError(f"channels ({channels}), r ({r}), s ({s}) and k ({k}) must be positive")
        inter_channels = channels // r
        if inter_channels < 1 or inter_channels % k:
            raise ValueError(f"channels // r ({inter_channels}) must be a positive multiple of k ({k})")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.channels = channels
        common = dict(bias=True, norm_layer=norm_layer, act_layer=act_layer, inplace=False)
        self.conv1 = ConvNormAct(channels, inter_channels, 1, **common)
        self.batransform = _BATransform(inter_channels, s, k, norm_layer, act_layer)
        self.conv2 = ConvNormAct(inter_channels, channels, 1, **common)
        self.dropout = nn.Dropout2d(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        y = self.conv2(self.batransform(self.conv1(x)))
        return self.dropout(y) + x
