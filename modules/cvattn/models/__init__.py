"""Backbones to put attention modules into: the CIFAR ResNets of kuangliu/pytorch-cifar (32 x 32 inputs).

Not imported by ``import cvattn`` (only ``attention`` and ``blocks`` are); import it explicitly::

    >>> from cvattn.models import resnet18
    >>> resnet18(num_classes=10).input_size
    (3, 32, 32)
"""

from __future__ import annotations

from .resnet_cifar import ARCHS, BasicBlock, Bottleneck, ResNetCIFAR, build, resnet18, resnet50

__all__ = ["ARCHS", "BasicBlock", "Bottleneck", "ResNetCIFAR", "build", "resnet18", "resnet50"]
