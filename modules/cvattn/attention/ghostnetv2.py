"""Ghost module with DFC attention (GhostNetV2).

Paper: "GhostNetV2: Enhance Cheap Operation with Long-Range Attention", Yehui Tang, Kai Han, Jianyuan Guo,
Chang Xu, Chao Xu, Yunhe Wang, NeurIPS 2022, https://arxiv.org/abs/2211.12905.
Official code: https://github.com/huawei-noah/Efficient-AI-Backbones
(``ghostnetv2_pytorch/model/ghostnetv2_torch.py``, ``GhostModuleV2`` with ``mode='attn'``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..blocks.ghostnet import GhostModule
from ..layers import ConvNormAct, LayerType, check_input


@fx.wrap
def _upsample_nearest(gate: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``gate`` resized to the spatial size of ``like`` by nearest-neighbour interpolation."""
    return F.interpolate(gate, size=like.shape[-2:], mode="nearest")


@register("ghostnetv2-dfc", kind="attention", inputs=(64, 14, 14), channels=64)
class GhostModuleV2(nn.Module):
    """Ghost module gated by DFC (decoupled fully connected) attention, computed at half resolution.

    Ghost branch: ``Y = [Y', dwconv(Y')][:C]`` with ``Y' = conv_k(x)`` (the GhostNet module, BN and ReLU
    after each conv). DFC branch: ``z = AvgPool_{2x2, stride 2}(x)``, then a ``k x k`` conv and BN, a
    depthwise ``1 x 5`` conv and BN (aggregation along the width) and a depthwise ``5 x 1`` conv and BN
    (along the height): every position gathers a cross-shaped long-range context from its row and column.
    Output ``Y * Up_nearest(sigmoid(DFC(z)))`` at the input's size. Memory grows linearly with ``H*W``
    (the DFC maps are a quarter of the input's size).

    Args:
        channels: input and output channels ``C`` (the official ``inp`` and ``oup``, equal).
        kernel_size: kernel ``k`` of the primary convolution and of the first DFC convolution (official 1).
        ratio: outputs per intrinsic map of the ghost module (official 2).
        dw_size: kernel of the ghost module's cheap depthwise convolution (official 3).
        relu: ReLU after the ghost module's convolutions (official true).
        norm_layer: normalisation after every convolution (BatchNorm2d).

    Shape:
        - Input: ``(N, C, H, W)`` with ``H, W >= 2``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> dfc = cvattn.create("ghostnetv2-dfc", channels=64)
        >>> dfc(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Output channels equal input channels and the stride is 1 (the official ``oup`` and ``stride``
        are not provided), so that the module keeps the input's shape. The official ``mode='original'``
        (no attention) is the ``ghostnet`` block.

    Reference:
        Tang, Han, Guo, Xu, Xu, Wang. GhostNetV2: Enhance Cheap Operation with Long-Range Attention.
        NeurIPS 2022.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int = 1,
        ratio: int = 2,
        dw_size: int = 3,
        relu: bool = True,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        if ratio < 2:
            raise ValueError(f"ratio must be at least 2, got {ratio}")
        self.channels = channels
        self.ghost = GhostModule(channels, channels, kernel_size, ratio, dw_size, 1, relu, norm_layer)
        c = channels
        self.dfc = nn.Sequential(
            ConvNormAct(c, c, kernel_size, 1, kernel_size // 2, norm_layer=norm_layer, act_layer=None),
            ConvNormAct(c, c, (1, 5), 1, (0, 2), groups=c, norm_layer=norm_layer, act_layer=None),  # along W
            ConvNormAct(c, c, (5, 1), 1, (2, 0), groups=c, norm_layer=norm_layer, act_layer=None),  # along H
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        if not isinstance(x, fx.Proxy) and min(x.shape[-2:]) < 2:
            raise ValueError(f"input: expected H and W of at least 2 (a 2x2 pooling), got {tuple(x.shape)}")
        gate = torch.sigmoid(self.dfc(F.avg_pool2d(x, kernel_size=2, stride=2)))  # (N, C, H/2, W/2)
        y = self.ghost(x)  # (N, C, H, W)
        return y * _upsample_nearest(gate, y)
