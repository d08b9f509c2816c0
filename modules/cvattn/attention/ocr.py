"""Object-Contextual Representations (OCR).

Paper: "Object-Contextual Representations for Semantic Segmentation", Yuhui Yuan, Xilin Chen, Jingdong Wang,
ECCV 2020, https://arxiv.org/abs/1909.11065. Official code: https://github.com/HRNet/HRNet-Semantic-Segmentation
(branch HRNet-OCR, ``lib/models/seg_hrnet_ocr.py``: ``SpatialGather_Module``, ``_ObjectAttentionBlock``,
``SpatialOCR_Module``) and https://github.com/openseg-group/openseg.pytorch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input


@register("ocr", kind="fusion", inputs=((64, 16, 16), (19, 16, 16)), channels=64, num_classes=19)
class OCR(nn.Module):
    """OCR module: augments each pixel with the representations of the object regions it relates to.

    Inputs are the pixel features ``x`` and the soft object regions ``M`` (the auxiliary
    segmentation logits, ``K`` classes). Spatial gather: the object region representations are
    ``f_k = sum_i softmax_i(m_ki) x_i``. Object attention: with the pixel query
    ``q_i = phi(x_i)`` and the object key ``k_k = psi(f_k)`` (two conv-BN-ReLU each), the relation is
    ``w_ik = softmax_k(q_i . k_k / sqrt(D))``; the object context is ``y_i = rho(sum_k w_ik delta(f_k))``
    (``delta``: one conv-BN-ReLU to ``D``, ``rho``: one back to ``C``). Output: conv-BN-ReLU on
    ``[y, x]`` followed by Dropout2d. Memory grows linearly with ``H*W`` (``K`` objects per pixel).

    Args:
        channels: channels ``C`` of the pixel features (HRNet-OCR: 512, ``MID_CHANNELS``).
        num_classes: ``K``, channels of the soft object regions.
        key_channels: ``D``, width of query and key (HRNet-OCR: 256; default ``channels // 2``).
        out_channels: output channels (default ``channels``, as in HRNet-OCR).
        dropout: Dropout2d rate after the fusion conv (HRNet-OCR: 0.05).
        norm_layer: normalisation (BatchNorm2d).
        act_layer: activation (ReLU).

    Shape:
        - Input: ``x`` ``(N, C, H, W)``, regions ``(N, K, H, W)``
        - Output: ``(N, out_channels, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> ocr = cvattn.create("ocr", channels=64, num_classes=19)
        >>> ocr(torch.randn(2, 64, 16, 16), torch.randn(2, 19, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        The optional max-pool ``scale`` of the official block (1 in HRNet-OCR) is not offered.

    Reference:
        Yuan, Chen, Wang. Object-Contextual Representations for Semantic Segmentation. ECCV 2020.
    """

    def __init__(
        self,
        channels: int,
        num_classes: int,
        key_channels: int | None = None,
        out_channels: int | None = None,
        dropout: float = 0.05,
        norm_layer: LayerType = nn.BatchNorm2d,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__()
        self.channels = channels
        self.num_classes = num_classes
        d = key_channels or channels // 2
        self.key_channels = d
        out_channels = out_channels or channels

        def cna(cin, cout):
            return ConvNormAct(cin, cout, 1, norm_layer=norm_layer, act_layer=act_layer, inplace=False)

        self.f_pixel = nn.Sequential(cna(channels, d), cna(d, d))  # phi
        self.f_object = nn.Sequential(cna(channels, d), cna(d, d))  # psi
        self.f_down = cna(channels, d)  # delta
        self.f_up = cna(d, channels)  # rho
        self.fuse = cna(2 * channels, out_channels)
        self.dropout = nn.Dropout2d(dropout)

    def forward(self, x: torch.Tensor, regions: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        check_input(regions, self.num_classes, name="regions")
        n = x.size(0)
        # spatial gather: object region representations f_k
        m = regions.flatten(2).softmax(dim=-1)  # (N, K, HW)
        f = torch.bmm(m, x.flatten(2).transpose(1, 2))  # (N, K, C)
        f = f.transpose(1, 2).unsqueeze(-1)  # (N, C, K, 1)
        # object attention: pixels query the K object representations
        q = self.f_pixel(x).flatten(2).transpose(1, 2)  # (N, HW, D)
        k = self.f_object(f).reshape(n, self.key_channels, -1).transpose(1, 2)  # (N, K, D)
        v = self.f_down(f).reshape(n, self.key_channels, -1).transpose(1, 2)  # (N, K, D)
        context = F.scaled_dot_product_attention(q, k, v)  # softmax(q k^T / sqrt(D)) v: (N, HW, D)
        y = self.f_up(context.transpose(1, 2).reshape(n, self.key_channels, x.shape[2], x.shape[3]))
        return self.dropout(self.fuse(torch.cat([y, x], 1)))
