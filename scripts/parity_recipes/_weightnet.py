"""Shared pieces of the WeightNet recipes: a PyTorch shim for the MegEngine names the official file uses, and the
adapter that computes the reduced global descriptor the official layers receive from their ShuffleNetV2 block."""

from __future__ import annotations

from typing import Any

from torch import nn

REPO = "https://github.com/megvii-model/WeightNet"

MEGENGINE = ""
"""``megengine`` itself: the official file imports only its two sub-modules."""

MEGENGINE_FUNCTIONAL = """
import torch.nn.functional as _F


def conv2d(inp, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    # MegEngine takes a grouped kernel as (groups, C_out / groups, C_in / groups, kH, kW); PyTorch as the
    # first two dimensions merged
    if weight.dim() == 5:
        weight = weight.flatten(0, 1)
    return _F.conv2d(inp, weight, bias, stride, padding, dilation, groups)
"""
"""``megengine.functional.conv2d`` in PyTorch (MegEngine's own layout of a grouped kernel included)."""

MEGENGINE_MODULE = """
from torch.nn import Conv2d, Module, Sigmoid
"""
"""``megengine.module``: the three classes the file uses, whose MegEngine constructors take the same arguments."""

STUBS = {
    "megengine": MEGENGINE,
    "megengine.functional": MEGENGINE_FUNCTIONAL,
    "megengine.module": MEGENGINE_MODULE,
}

NOTE = (
    "The official code is MegEngine, which is not installed here; the file ran unchanged on a PyTorch shim of the "
    "three names it uses (megengine.module.Conv2d/Sigmoid/Module as torch.nn's, megengine.functional.conv2d as "
    "F.conv2d with MegEngine's 5-D grouped-kernel layout merged to PyTorch's). The official layer receives the "
    "reduced global descriptor from its ShuffleNetV2 block (mean over H and W, then a 1x1 convolution with bias "
    "to max(16, C_in/16) channels, ShuffleV2Block.reduce); the adapter computes it the same way and ours holds "
    "it as `reduce`."
)


class Official(nn.Module):
    """The official layer fed by the block's descriptor: ``layer(x, reduce(mean_hw(x)))``."""

    def __init__(self, layer: nn.Module, in_channels: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(in_channels, max(16, in_channels // 16), 1, 1, 0, bias=True)
        self.layer = layer

    def forward(self, x: Any) -> Any:
        x_gap = x.mean(2, keepdim=True).mean(3, keepdim=True)
        return self.layer(x, self.reduce(x_gap))


RENAME = ((r"^layer\.wn_fc", "fc"),)
