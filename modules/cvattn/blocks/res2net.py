"""Res2Net bottleneck (Bottle2neck).

Paper: "Res2Net: A New Multi-scale Backbone Architecture", Shang-Hua Gao, Ming-Ming Cheng, Kai Zhao, Xin-Yu Zhang,
Ming-Hsuan Yang, Philip Torr, TPAMI 2021 (43(2):652-662), https://arxiv.org/abs/1904.01169.
Official code: https://github.com/Res2Net/Res2Net-PretrainedModels (``res2net.py``, ``Bottle2neck``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act


@register("res2net", kind="block", inputs=(256, 14, 14), in_channels=256, out_channels=256)
class Bottle2neck(nn.Module):
    """Res2Net bottleneck: the 3x3 conv of a ResNet bottleneck split into ``scale`` hierarchical groups.

    After a 1x1 conv (BN, ReLU) to ``scale * w`` channels, the map is split into ``scale`` groups
    ``x_1 .. x_s`` of ``w`` channels. ``y_1 = x_1`` is passed through, ``y_2 = K_2(x_2)`` and
    ``y_i = K_i(x_i + y_{i-1})`` for ``i > 2``, each ``K_i`` a 3x3 conv with BN and ReLU; so group ``i`` sees
    a receptive field of ``2i - 1`` pixels and the block represents several scales at once at the cost of one
    3x3 conv on ``w`` channels per group. The groups are concatenated, fused by a 1x1 conv with BN, added to
    the shortcut and passed through a ReLU. Implementation order (official): the convolved groups come first
    and the passed-through group ``x_s`` is the last one. The first block of a stage (a projection shortcut,
    when ``stride > 1`` or the channel counts differ) does not add ``y_{i-1}`` and average-pools the last
    group, with the block's stride, instead of passing it through.

    Args:
        in_channels: input channels.
        out_channels: output channels (``expansion * planes``).
        stride: stride of the 3x3 convs and of the shortcut.
        base_width: width of a group for ``planes = 64``; a group has ``w = floor(planes * base_width / 64)``
            channels (paper: 26, "26w").
        scale: number of groups ``s`` (paper: 4, "4s"); 1 gives a plain bottleneck with one 3x3 conv.
        expansion: ``out_channels / planes`` (ResNet bottleneck: 4).
        act_layer: the activation (ReLU).
        norm_layer: the normalisation after every conv (BatchNorm).

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H', W')``, ``H' = (H - 1) // stride + 1``

    Examples:
        >>> import torch, cvattn
        >>> block = cvattn.create("res2net", in_channels=256, out_channels=256)  # 26w x 4s
        >>> block(torch.randn(2, 256, 14, 14)).shape
        torch.Size([2, 256, 14, 14])
        >>> down = cvattn.create("res2net", in_channels=256, out_channels=512, stride=2)
        >>> down(torch.randn(2, 256, 14, 14)).shape
        torch.Size([2, 512, 7, 7])

    Deviations:
        Takes ``out_channels`` instead of the official ``planes`` (``planes = out_channels / expansion``) and
        builds the projection shortcut itself (the official ``Res2Net._make_layer``'s 1x1 conv with stride and
        BN) whenever one is needed; the first-block form (official ``stype="stage"``) is chosen with it, as
        ``_make_layer`` does. The network's Kaiming initialisation (``Res2Net.__init__``) is left to the model.
        The groups are concatenated once, not one by one.

    Reference:
        Gao, Cheng, Zhao, Zhang, Yang, Torr. Res2Net: A New Multi-scale Backbone Architecture. TPAMI 2021.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        base_width: int = 26,
        scale: int = 4,
        expansion: int = 4,
        act_layer: LayerType = nn.ReLU,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        if scale < 1 or out_channels % expansion:
            raise ValueError(
                f"expected scale >= 1 and out_channels divisible by expansion ({expansion}), got scale={scale}, "
                f"out_channels={out_channels}"
            )
        planes = out_channels // expansion
        width = int(math.floor(planes * (base_width / 64.0)))
        if width < 1:
            raise ValueError(f"expected a group width >= 1, got {width} (out_channels={out_channels})")
        self.in_channels = in_channels
        self.width = width
        self.scale = scale
        self.nums = max(1, scale - 1)  # groups that are convolved
        self.stage = stride != 1 or in_channels != out_channels  # first block of a stage
        self.conv1 = nn.Conv2d(in_channels, width * scale, 1, bias=False)
        self.bn1 = norm_layer(width * scale)
        self.convs = nn.ModuleList(
            nn.Conv2d(width, width, 3, stride, padding=1, bias=False) for _ in range(self.nums)
        )
        self.bns = nn.ModuleList(norm_layer(width) for _ in range(self.nums))
        self.pool = nn.AvgPool2d(3, stride, padding=1) if self.stage and scale > 1 else None
        self.conv3 = nn.Conv2d(width * scale, out_channels, 1, bias=False)
        self.bn3 = norm_layer(out_channels)
        self.act = create_act(act_layer, inplace=True)
        if self.stage:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), norm_layer(out_channels)
            )
        else:
            self.downsample = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        out = self.act(self.bn1(self.conv1(x)))
        xs = torch.split(out, self.width, dim=1)  # x_1 .. x_s, w channels each
        ys = []
        y = xs[0]
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns, strict=True)):
            z = xs[i] if i == 0 or self.stage else y + xs[i]  # K_i(x_i + y_{i-1})
            y = self.act(bn(conv(z)))
            ys.append(y)
        if self.scale > 1:
            last = xs[self.nums]
            ys.append(self.pool(last) if self.pool is not None else last)
        out = self.bn3(self.conv3(torch.cat(ys, dim=1)))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.act(out.add_(shortcut))  # in place, as batch norm's backward does not read its output
