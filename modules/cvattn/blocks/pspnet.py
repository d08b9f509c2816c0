"""Pyramid Pooling Module (PSPNet).

Paper: "Pyramid Scene Parsing Network", Hengshuang Zhao, Jianping Shi, Xiaojuan Qi, Xiaogang Wang, Jiaya
Jia, CVPR 2017, https://arxiv.org/abs/1612.01105. Official code: https://github.com/hszhao/PSPNet (Caffe)
and the first author's PyTorch re-implementation https://github.com/hszhao/semseg (``model/pspnet.py``,
``PPM``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import BatchNormAnyBatch2d, ConvNormAct, LayerType, check_input


@register("pspnet", kind="block", inputs=(64, 16, 16), in_channels=64)
class PyramidPoolingModule(nn.Module):
    """Pyramid pooling module: context pooled at 1x1, 2x2, 3x3 and 6x6 bins, concatenated with the input.

    For each bin size ``b``, the feature map is average-pooled to ``b x b`` sub-regions, reduced by a
    1x1 conv + BN + ReLU to ``C / N`` channels (``N`` = number of pyramid levels, so the context keeps the
    weight of the input), and bilinearly up-sampled back to ``H x W``. The output concatenates the
    input with the ``N`` context maps: ``[x, up(f_1(pool_1(x))), ..., up(f_6(pool_6(x)))]``.

    Args:
        in_channels: input channels ``C``.
        bins: output sizes of the pyramid's adaptive average pooling (paper: 1, 2, 3, 6).
        reduction_channels: channels of each level after its 1x1 conv; ``None`` gives
            ``in_channels // len(bins)`` (paper and official code).
        norm_layer: normalisation after each 1x1 conv (BatchNorm2d).
        act_layer: activation after each normalisation (ReLU).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C + len(bins) * reduction_channels, H, W)`` (``2C`` by default)

    Examples:
        >>> import torch, cvattn
        >>> ppm = cvattn.create("pspnet", in_channels=64)
        >>> ppm(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 128, 16, 16])

    Deviations:
        The 1x1 level normalises with :class:`~cvattn.layers.BatchNormAnyBatch2d` (plain batch norm, except
        that a training batch of one pooled sample uses the running statistics instead of failing).

    Reference:
        Zhao, Shi, Qi, Wang, Jia. Pyramid Scene Parsing Network. CVPR 2017.
    """

    def __init__(
        self,
        in_channels: int,
        bins: tuple[int, ...] = (1, 2, 3, 6),
        reduction_channels: int | None = None,
        norm_layer: LayerType = nn.BatchNorm2d,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.bins = tuple(bins)
        reduction = reduction_channels or in_channels // len(self.bins)
        self.out_channels = in_channels + len(self.bins) * reduction

        def level(b: int) -> nn.Sequential:
            norm = BatchNormAnyBatch2d if b == 1 and norm_layer is nn.BatchNorm2d else norm_layer
            return nn.Sequential(
                nn.AdaptiveAvgPool2d(b),
                ConvNormAct(in_channels, reduction, 1, norm_layer=norm, act_layer=act_layer),
            )

        self.levels = nn.ModuleList(level(b) for b in self.bins)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        size = (x.shape[2], x.shape[3])
        context = [
            F.interpolate(level(x), size=size, mode="bilinear", align_corners=True)  # (N, C/N, H, W)
            for level in self.levels
        ]
        return torch.cat([x, *context], dim=1)
