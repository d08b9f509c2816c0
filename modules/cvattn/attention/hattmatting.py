"""Channel-wise and spatial attention of HAttMatting.

Paper: "Attention-Guided Hierarchical Structure Aggregation for Image Matting", Yu Qiao, Yuhao Liu, Xin Yang,
Dongsheng Zhou, Mingliang Xu, Qiang Zhang, Xiaopeng Wei, CVPR 2020,
https://openaccess.thecvf.com/content_CVPR_2020/html/Qiao_Attention-Guided_Hierarchical_Structure_Aggregation_for_Image_Matting_CVPR_2020_paper.html.
Official repository: https://github.com/yuhaoliu7456/CVPR2020-HAttMatting (dataset scripts only, no model
code). The paper builds its two attentions after those of "Pyramid Feature Attention Network for Saliency
Detection" (Zhao, Wu, CVPR 2019, https://github.com/CaitinZhao/cvpr2019_Pyramid-Feature-Attention-Network-for-Saliency-detection),
whose layer choices are used here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input, create_act


@register("hattmatting-channel", kind="attention", inputs=(64, 16, 16), channels=64)
class HAttMattingChannel(nn.Module):
    """Pyramidal-feature distillation: channel-wise attention on the ASPP output.

    ``s = sigmoid(W2 relu(W1 GAP(F)))`` with fully connected ``W1: C -> C/r`` and ``W2: C/r -> C``
    (bias on); the distilled features are ``s * F``: channels that help alpha perception are kept,
    the others suppressed.

    Args:
        channels: channels ``C`` of the pyramidal features.
        reduction: ``r`` (PFAN: 4).
        act_layer: hidden activation (ReLU).
        gate_layer: gate (sigmoid).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> ca = cvattn.create("hattmatting-channel", channels=64)
        >>> ca(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        No official model code exists; layer widths follow PFAN's channel-wise attention, which the
        paper adopts.

    Reference:
        Qiao, Liu, Yang, Zhou, Xu, Zhang, Wei. Attention-Guided Hierarchical Structure Aggregation for
        Image Matting. CVPR 2020.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 4,
        act_layer: LayerType = nn.ReLU,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.channels = channels
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.act = create_act(act_layer, inplace=True)
        self.fc2 = nn.Conv2d(hidden, channels, 1)
        self.gate = create_act(gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        z = x.mean((2, 3), keepdim=True)  # global average pooling: (N, C, 1, 1)
        s = self.gate(self.fc2(self.act(self.fc1(z))))  # (N, C, 1, 1)
        return x * s


@register(
    "hattmatting-spatial", kind="fusion", inputs=((32, 32, 32), (64, 16, 16)), channels=32, guide_channels=64
)
class HAttMattingSpatial(nn.Module):
    """Appearance-cue filtration: a spatial map computed from high-level features gates low-level cues.

    The distilled high-level features ``G`` are upsampled to the size of the appearance cues ``X``;
    two branches of large separable kernels, ``(1 x k then k x 1)`` and ``(k x 1 then 1 x k)``, each
    conv-BN-ReLU with ``C_g / 2`` then one channel, are summed and squashed,
    ``a = sigmoid(b_1(G) + b_2(G))``, and the output is ``a * X``: cues on semantically relevant
    boundaries pass, texture elsewhere is suppressed.

    Args:
        channels: channels ``C`` of the low-level appearance cues ``X``.
        guide_channels: channels ``C_g`` of the high-level guide ``G``.
        kernel_size: ``k`` of the separable kernels (PFAN: 9).
        norm_layer: normalisation (BatchNorm2d).
        act_layer: activation (ReLU).

    Shape:
        - Input: cues ``(N, C, H, W)``, guide ``(N, C_g, h, w)`` (bilinearly resized to ``H x W``)
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> sa = cvattn.create("hattmatting-spatial", channels=32, guide_channels=64)
        >>> sa(torch.randn(2, 32, 32, 32), torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 32, 32, 32])

    Deviations:
        No official model code exists; the branch layout, widths and ``k = 9`` follow PFAN's spatial
        attention, which the paper adopts.

    Reference:
        Qiao, Liu, Yang, Zhou, Xu, Zhang, Wei. Attention-Guided Hierarchical Structure Aggregation for
        Image Matting. CVPR 2020.
    """

    def __init__(
        self,
        channels: int,
        guide_channels: int,
        kernel_size: int = 9,
        norm_layer: LayerType = nn.BatchNorm2d,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__()
        self.channels, self.guide_channels = channels, guide_channels
        hidden, k, p = max(1, guide_channels // 2), kernel_size, kernel_size // 2

        def cna(cin, cout, ks, pad):
            return ConvNormAct(
                cin, cout, ks, padding=pad, norm_layer=norm_layer, act_layer=act_layer, inplace=False
            )

        self.branch1 = nn.Sequential(
            cna(guide_channels, hidden, (1, k), (0, p)), cna(hidden, 1, (k, 1), (p, 0))
        )
        self.branch2 = nn.Sequential(
            cna(guide_channels, hidden, (k, 1), (p, 0)), cna(hidden, 1, (1, k), (0, p))
        )

    def forward(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        check_input(guide, self.guide_channels, name="guide")
        g = F.interpolate(guide, size=(x.shape[2], x.shape[3]), mode="bilinear", align_corners=False)
        a = torch.sigmoid(self.branch1(g) + self.branch2(g))  # (N, 1, H, W)
        return x * a
