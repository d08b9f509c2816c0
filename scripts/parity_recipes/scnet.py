"""Self-calibrated convolution against the official ``scnet.py``: ``SCConv`` and the plain ``k1`` path of
``SCBottleneck``, the two paths that ours puts side by side.

The ``build`` adapter takes the ``k1`` and ``scconv`` submodules of an official ``SCBottleneck`` (its 1x1 convs,
``conv3`` and ``bn3`` are the bottleneck's and are left out) and applies them as ours does (see our Deviations):
``SCConv`` to the first half of the input channels, ``k1`` to the second half, outputs concatenated in that order.
``bottleneck_width=64`` makes the official group width equal to ``planes * cardinality``, i.e. half our channels.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from scripts.parity import Config, Recipe


class _Paths(nn.Module):
    def __init__(self, bottleneck: nn.Module) -> None:
        super().__init__()
        self.k1, self.scconv = bottleneck.k1, bottleneck.scconv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = x.chunk(2, dim=1)
        return torch.cat([self.scconv(x1), self.k1(x2)], 1)


def _build(cls: Any, kwargs: dict[str, Any]) -> nn.Module:
    return _Paths(cls(**kwargs, norm_layer=nn.BatchNorm2d))


RECIPE = Recipe(
    module="scnet",
    repo="https://github.com/MCG-NKU/SCNet",
    file="scnet.py",
    cls="SCBottleneck",
    configs=(
        Config(
            "default",
            {"inplanes": 16, "planes": 8, "bottleneck_width": 64},
            {"in_channels": 16, "out_channels": 16},
            ((2, 16, 4, 8),),
        ),
        Config(
            "stride2-dilation2-groups2",
            {
                "inplanes": 12,
                "planes": 3,
                "stride": 2,
                "cardinality": 2,
                "bottleneck_width": 64,
                "dilation": 2,
            },
            {"in_channels": 12, "out_channels": 12, "stride": 2, "dilation": 2, "groups": 2},
            ((2, 12, 6, 9),),
        ),
    ),
    rename=(
        (r"^scconv\.k2\.1\.", "k2.0."),
        (r"^scconv\.k2\.2\.", "k2.1."),
        (r"^scconv\.k3\.", "k3."),
        (r"^scconv\.k4\.", "k4."),
    ),
    build=_build,
    deviation_zh="官方 SCBottleneck 用两个独立的 1x1 卷积分别为两条路径提供输入，并把 K1 路径放在前面拼接；本实现按论文把输入通道对半划分，并把自校准路径放在前面。对照时的适配器在我们的两半通道上按我们的顺序运行官方的 scconv 与 k1。",
    deviation="The official SCBottleneck feeds the two paths from two separate 1x1 convs and concatenates the K1 "
    "path first; ours splits the input in half and puts the self-calibrated path first (as the paper). The adapter "
    "runs the official scconv and k1 on our halves, in our order.",
    note="The official SCBottleneck concatenates [k1 path, SCConv path] after its own 1x1 convs; which half feeds "
    "which path, and their order, is the surrounding block's business (our Deviations), so the adapter follows ours.",
)
