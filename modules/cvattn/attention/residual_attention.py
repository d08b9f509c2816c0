"""Attention module of the Residual Attention Network.

Paper: "Residual Attention Network for Image Classification", Fei Wang, Mengqing Jiang, Chen Qian, Shuo Yang,
Cheng Li, Honggang Zhang, Xiaogang Wang, Xiaoou Tang, CVPR 2017,
https://openaccess.thecvf.com/content_cvpr_2017/html/Wang_Residual_Attention_Network_CVPR_2017_paper.html
(arXiv: https://arxiv.org/abs/1704.06904). Official code (Caffe prototxt):
https://github.com/fwang91/residual-attention-network (``imagenet_model/Attention-56-deploy.prototxt``,
``AttentionA_1``, ``AttentionB_1``, ``AttentionC_1``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import BatchNormAnyBatch2d, LayerType, check_input, create_act


class _PreActBottleneck(nn.Module):
    """Pre-activation bottleneck unit ``x + conv1x1(a(conv3x3(a(conv1x1(a(x))))))``, ``a = relu(bn(.))``."""

    def __init__(self, channels: int, mid: int, norm_layer: LayerType, act_layer: LayerType) -> None:
        super().__init__()
        self.body = nn.Sequential(
            norm_layer(channels),
            create_act(act_layer, inplace=True),
            nn.Conv2d(channels, mid, 1, bias=False),
            norm_layer(mid),
            create_act(act_layer, inplace=True),
            nn.Conv2d(mid, mid, 3, padding=1, bias=False),
            norm_layer(mid),
            create_act(act_layer, inplace=True),
            nn.Conv2d(mid, channels, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


@register("residual-attention", kind="attention", inputs=(64, 14, 14), channels=64)
class ResidualAttention(nn.Module):
    """Residual Attention Network's attention module: a trunk modulated by a bottom-up top-down soft mask.

    After ``p`` pre-processing units, the trunk ``T`` is ``t`` residual units. The soft mask branch
    reads the same pre-processed map, max-pools it ``D`` times (3x3, stride 2) with ``r`` residual units
    after each pooling (``2r`` at the coarsest level), then goes back up by bilinear interpolation,
    adding at every level a skip connection (one residual unit) and following it with ``r`` units; at
    full size, two BN-ReLU-1x1-convolution layers and a sigmoid give the mask ``M`` (one value per channel
    and position). Attention residual learning combines them as ``H = (1 + M) * T``, so an uninformative
    mask keeps the trunk features instead of attenuating them; ``p`` units follow. All units are
    pre-activation bottlenecks of width ``C / reduction``. Memory grows with ``H*W * C`` (linear in
    ``H*W``).

    Args:
        channels: channels ``C``.
        num_downsamples: max-poolings ``D`` of the mask branch (official Attention-56/92: 3, 2 and 1 in the
            modules at 56, 28 and 14 pixels); there are ``D - 1`` skip connections.
        pre_units: ``p``, units before the split and after the fusion (official: 1).
        trunk_units: ``t``, units of the trunk branch (official: 2).
        mask_units: ``r``, units between adjacent pooling or interpolation steps (official: 1).
        reduction: bottleneck width ratio of the units (official: 4, e.g. 256 -> 64).
        norm_layer: normalisation (batch norm; a batch of a single value uses the running statistics).
        act_layer: activation (ReLU).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> ram = cvattn.create("residual-attention", channels=64)
        >>> ram(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        None in the computation. Pooling uses Caffe's ceil rounding and interpolation maps corner to
        corner, as the official Caffe ``Pooling`` and ``Interp`` layers do. The official networks have a
        batch norm + ReLU after the module, which belongs to the next unit's pre-activation and is left
        out here.

    Reference:
        Wang, Jiang, Qian, Yang, Li, Zhang, Wang, Tang. Residual Attention Network for Image Classification.
        CVPR 2017.
    """

    def __init__(
        self,
        channels: int,
        num_downsamples: int = 3,
        pre_units: int = 1,
        trunk_units: int = 2,
        mask_units: int = 1,
        reduction: int = 4,
        norm_layer: LayerType = BatchNormAnyBatch2d,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__()
        if channels < 1 or reduction < 1 or channels < reduction:
            raise ValueError(f"channels ({channels}) must be positive and at least reduction ({reduction})")
        if num_downsamples < 1 or pre_units < 0 or trunk_units < 1 or mask_units < 1:
            raise ValueError(
                "num_downsamples, trunk_units and mask_units must be >= 1 and pre_units >= 0, got "
                f"{num_downsamples}, {trunk_units}, {mask_units}, {pre_units}"
            )
        self.channels, self.num_downsamples = channels, num_downsamples
        mid = channels // reduction

        def units(n: int) -> nn.Sequential:
            return nn.Sequential(*(_PreActBottleneck(channels, mid, norm_layer, act_layer) for _ in range(n)))

        self.pre = units(pre_units)
        self.trunk = units(trunk_units)
        # mask branch: r units after each pooling (2r at the coarsest), a skip unit and r units per upper level
        self.down = nn.ModuleList(units(mask_units) for _ in range(num_downsamples - 1))
        self.bottom = units(2 * mask_units)
        self.skip = nn.ModuleList(units(1) for _ in range(num_downsamples - 1))
        self.up = nn.ModuleList(units(mask_units) for _ in range(num_downsamples - 1))
        self.mask_head = nn.Sequential(
            norm_layer(channels),
            create_act(act_layer, inplace=True),
            nn.Conv2d(channels, channels, 1, bias=False),
            norm_layer(channels),
            create_act(act_layer, inplace=True),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.Sigmoid(),
        )
        self.post = units(pre_units)

    @staticmethod
    def _pool(x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(x, 3, 2, ceil_mode=True)

    @staticmethod
    def _resize(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, size=like.shape[2:], mode="bilinear", align_corners=True)

    def mask(self, x: torch.Tensor) -> torch.Tensor:
        """The soft mask ``M`` in ``(0, 1)`` of a pre-processed map ``x``, ``(N, C, H, W)``."""
        levels = []  # features after each pooling above the coarsest: m_1, ..., m_{D-1}
        m = x
        for down in self.down:
            m = down(self._pool(m))
            levels.append(m)
        m = self.bottom(self._pool(m))  # coarsest level
        for i in reversed(range(self.num_downsamples - 1)):
            m = self.up[i](self._resize(m, levels[i]) + self.skip[i](levels[i]))
        return self.mask_head(self._resize(m, x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        x = self.pre(x)
        t = self.trunk(x)
        m = self.mask(x)
        return self.post((1 + m) * t)  # attention residual learning: H = (1 + M) * T
