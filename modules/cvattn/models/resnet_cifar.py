"""ResNet-18 and ResNet-50 for 32 x 32 inputs, in the layout of kuangliu/pytorch-cifar.

Paper: "Deep Residual Learning for Image Recognition", Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun,
CVPR 2016, https://arxiv.org/abs/1512.03385. Layout: https://github.com/kuangliu/pytorch-cifar
(``models/resnet.py``): a 3x3 stride-1 stem without max pooling, four stages at 32, 16, 8 and 4 pixels,
global average pooling and one linear layer. The seed list's CIFAR-10 evaluation used this network.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with a shortcut (ResNet-18/34).

    ``branch_end`` names the last layer of the residual branch: :func:`cvattn.insert` puts a module after
    it, before the addition (the placement of the SE and CBAM papers).
    """

    expansion = 1
    branch_end = "bn2"

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))  # residual branch F(x)
        return F.relu(out + self.shortcut(x))  # y = relu(F(x) + shortcut(x))


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (x4), each with BN, and a shortcut (ResNet-50/101/152)."""

    expansion = 4
    branch_end = "bn3"

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        out_planes = self.expansion * planes
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_planes, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != out_planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, out_planes, 1, stride, bias=False), nn.BatchNorm2d(out_planes)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))  # residual branch F(x)
        return F.relu(out + self.shortcut(x))


class ResNetCIFAR(nn.Module):
    """A ResNet for 32 x 32 images: 3x3 stem, four stages (``layer1``..``layer4``), pooling, classifier.

    Args:
        block: :class:`BasicBlock` or :class:`Bottleneck`.
        num_blocks: blocks per stage, e.g. ``(2, 2, 2, 2)`` for ResNet-18.
        num_classes: outputs of the classifier.
        width: channels of the stem and the first stage (64 in the paper); stages double it. Smaller
            widths make quick tests and smoke benchmarks.
        in_channels: channels of the input image.

    Shape:
        - Input: ``(N, in_channels, H, W)``, 32 x 32 by design (any size works: pooling is adaptive)
        - Output: ``(N, num_classes)``

    Examples:
        >>> import torch
        >>> from cvattn.models import resnet18
        >>> resnet18(num_classes=10, width=16)(torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """

    stages = ("layer1", "layer2", "layer3", "layer4")

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        num_blocks: tuple[int, int, int, int],
        num_classes: int = 10,
        width: int = 64,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        if width < 1:
            raise ValueError(f"width must be positive, got {width}")
        self.input_size = (in_channels, 32, 32)
        self.in_planes = width
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.layer1 = self._make_layer(block, width, num_blocks[0], 1)
        self.layer2 = self._make_layer(block, 2 * width, num_blocks[1], 2)
        self.layer3 = self._make_layer(block, 4 * width, num_blocks[2], 2)
        self.layer4 = self._make_layer(block, 8 * width, num_blocks[3], 2)
        self.linear = nn.Linear(8 * width * block.expansion, num_classes)

    def _make_layer(self, block, planes: int, num_blocks: int, stride: int) -> nn.Sequential:
        layers = []
        for s in [stride] + [1] * (num_blocks - 1):
            layers.append(block(self.in_planes, planes, s))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)  # (N, 8 * width * expansion)
        return self.linear(out)


def resnet18(num_classes: int = 10, width: int = 64, in_channels: int = 3) -> ResNetCIFAR:
    """ResNet-18 for 32 x 32 inputs (11.2 M parameters at width 64 and 10 classes)."""
    return ResNetCIFAR(BasicBlock, (2, 2, 2, 2), num_classes, width, in_channels)


def resnet50(num_classes: int = 10, width: int = 64, in_channels: int = 3) -> ResNetCIFAR:
    """ResNet-50 for 32 x 32 inputs (23.5 M parameters at width 64 and 10 classes)."""
    return ResNetCIFAR(Bottleneck, (3, 4, 6, 3), num_classes, width, in_channels)


ARCHS: dict[str, Callable[..., ResNetCIFAR]] = {"resnet18": resnet18, "resnet50": resnet50}


def build(arch: str, **kwargs) -> ResNetCIFAR:
    """The network named ``arch`` (``resnet18`` or ``resnet50``)."""
    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}; choose one of {', '.join(ARCHS)}")
    return ARCHS[arch](**kwargs)
