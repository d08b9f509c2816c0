"""Strip pooling.

Paper: "Strip Pooling: Rethinking Spatial Pooling for Scene Parsing", Qibin Hou, Li Zhang, Ming-Ming Cheng,
Jiashi Feng, CVPR 2020, https://arxiv.org/abs/2003.13328.
Official code: https://github.com/Andrew-Qibin/SPNet (``models/customize.py``: ``SPBlock``, and
``StripPooling`` for the mixed pooling module).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input


@register("strip-pooling", kind="attention", inputs=(64, 14, 14), channels=64)
class StripPooling(nn.Module):
    """Strip pooling module (SPM): long, narrow pooling windows along each axis give a spatial gate that
    captures long-range context in banded shapes.

    ``y_h = BN(conv_{3x1}(mean_W(x)))`` (an ``H x 1`` strip), ``y_w = BN(conv_{1x3}(mean_H(x)))`` (``1 x W``),
    both expanded to ``H x W``; ``gate = sigmoid(conv_{1x1}(ReLU(y_h + y_w)))`` and the output is
    ``x * gate``. Cost is linear in ``H*W``.

    Args:
        channels: input channels ``C``.
        norm_layer: normalisation after the strip convolutions (BatchNorm2d).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> spm = cvattn.create("strip-pooling", channels=64)
        >>> spm(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The official ``SPBlock`` returns the gate and the backbone multiplies it into the features; here the
        module returns the gated features.

    Reference:
        Hou, Zhang, Cheng, Feng. Strip Pooling: Rethinking Spatial Pooling for Scene Parsing. CVPR 2020.
    """

    def __init__(self, channels: int, norm_layer: LayerType = nn.BatchNorm2d) -> None:
        super().__init__()
        self.channels = channels
        self.conv_h = nn.Conv2d(channels, channels, (3, 1), padding=(1, 0), bias=False)
        self.bn_h = norm_layer(channels)
        self.conv_w = nn.Conv2d(channels, channels, (1, 3), padding=(0, 1), bias=False)
        self.bn_w = norm_layer(channels)
        self.fuse = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        y_h = self.bn_h(self.conv_h(x.mean(3, keepdim=True)))  # vertical strip: (N, C, H, 1)
        y_w = self.bn_w(self.conv_w(x.mean(2, keepdim=True)))  # horizontal strip: (N, C, 1, W)
        return x * torch.sigmoid(self.fuse(F.relu(y_h + y_w)))  # broadcast to (N, C, H, W)


@register("strip-pooling-mpm", kind="attention", inputs=(64, 32, 32), channels=64)
class MixedPooling(nn.Module):
    """Mixed pooling module (MPM): a short-range branch of pyramid pooling and a long-range branch of strip
    pooling, added back to the input.

    Both branches first reduce the input to ``C / reduction`` channels (1x1 conv-BN-ReLU each). The
    short-range branch adds a 3x3 conv-BN of the reduced map and 3x3 conv-BNs of its adaptive average pools to
    ``pool_size[0]`` and ``pool_size[1]`` squares, upsampled back (bilinear, corners aligned), then applies
    ReLU and a 3x3 conv-BN-ReLU. The long-range branch adds a 1x3 conv-BN of the ``1 x W`` strip
    ``mean_H`` and a 3x1 conv-BN of the ``H x 1`` strip ``mean_W``, each expanded back to ``H x W`` (the
    official bilinear upsampling of a strip only repeats it), then applies ReLU and a 3x3 conv-BN-ReLU. A 1x1
    conv-BN maps the concatenated branches back to ``C`` and the output is ``ReLU(x + out)``. Cost is linear
    in ``H*W``.

    Args:
        channels: input channels ``C``.
        pool_size: output sizes of the two square adaptive pools of the short-range branch ((20, 12), as in
            SPNet).
        reduction: channel reduction of the branches (4).
        norm_layer: normalisation after every convolution (BatchNorm2d).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> mpm = cvattn.create("strip-pooling-mpm", channels=64)
        >>> mpm(torch.randn(2, 64, 32, 32)).shape
        torch.Size([2, 64, 32, 32])

    Reference:
        Hou, Zhang, Cheng, Feng. Strip Pooling: Rethinking Spatial Pooling for Scene Parsing. CVPR 2020.
    """

    def __init__(
        self,
        channels: int,
        pool_size: tuple[int, int] = (20, 12),
        reduction: int = 4,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        self.channels = channels
        self.pool_size = tuple(pool_size)
        r = channels // reduction
        self.reduce_short = ConvNormAct(channels, r, 1, norm_layer=norm_layer)
        self.reduce_long = ConvNormAct(channels, r, 1, norm_layer=norm_layer)
        # short-range branch: the map itself and its two pyramid pools
        self.conv_local = ConvNormAct(r, r, 3, norm_layer=norm_layer, act_layer=None)
        self.conv_pool1 = ConvNormAct(r, r, 3, norm_layer=norm_layer, act_layer=None)
        self.conv_pool2 = ConvNormAct(r, r, 3, norm_layer=norm_layer, act_layer=None)
        # long-range branch: the two strips
        self.conv_w = ConvNormAct(r, r, (1, 3), norm_layer=norm_layer, act_layer=None)
        self.conv_h = ConvNormAct(r, r, (3, 1), norm_layer=norm_layer, act_layer=None)
        self.fuse_short = ConvNormAct(r, r, 3, norm_layer=norm_layer)
        self.fuse_long = ConvNormAct(r, r, 3, norm_layer=norm_layer)
        self.project = ConvNormAct(2 * r, channels, 1, norm_layer=norm_layer, act_layer=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        size = (x.shape[2], x.shape[3])
        x1 = self.reduce_short(x)  # (N, C/4, H, W)
        x2 = self.reduce_long(x)
        y_local = self.conv_local(x1)
        y_pool1 = F.interpolate(
            self.conv_pool1(F.adaptive_avg_pool2d(x1, self.pool_size[0])),
            size,
            mode="bilinear",
            align_corners=True,
        )  # (N, C/4, 20, 20) -> (N, C/4, H, W)
        y_pool2 = F.interpolate(
            self.conv_pool2(F.adaptive_avg_pool2d(x1, self.pool_size[1])),
            size,
            mode="bilinear",
            align_corners=True,
        )  # (N, C/4, 12, 12) -> (N, C/4, H, W)
        y_w = self.conv_w(x2.mean(2, keepdim=True))  # horizontal strip: (N, C/4, 1, W)
        y_h = self.conv_h(x2.mean(3, keepdim=True))  # vertical strip: (N, C/4, H, 1)
        short = self.fuse_short(F.relu(y_local + y_pool1 + y_pool2))
        long = self.fuse_long(F.relu(y_h + y_w))  # strips broadcast to (N, C/4, H, W)
        out = self.project(torch.cat([short, long], 1))  # (N, C, H, W)
        return F.relu(x + out)
