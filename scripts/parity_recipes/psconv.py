"""PSConv against the official ``mmdet/models/utils/psconv.py``: ``PSConv2d`` (no ``groups`` given) and
``PSGConv2d`` (``groups`` given).

The official layers keep the masked blocks of the dense convolution at zero (zeroed at construction, then a
gradient hook); after the weights are randomised, the ``build`` adapter restores that invariant with a forward
pre-hook that zeroes the masked entries, while the fixture keeps the random values there (ours multiplies by the
mask). Patched: the mask is built as a CPU ``bool`` tensor instead of ``.byte().cuda()``.
"""

from __future__ import annotations

import sys
from typing import Any

import torch

from scripts.parity import Config, Recipe


def _build(cls: Any, kwargs: dict[str, Any]) -> Any:
    if "groups" not in kwargs:
        cls = sys.modules[cls.__module__].PSConv2d
    layer = cls(**kwargs)

    def zero_masked(module: Any, _inputs: Any) -> None:
        with torch.no_grad():
            module.conv.weight[module.mask] = 0

    layer.register_forward_pre_hook(zero_masked)
    return layer


RECIPE = Recipe(
    module="psconv",
    repo="https://github.com/d-li14/PSConv",
    file="mmdet/models/utils/psconv.py",
    cls="PSGConv2d",
    configs=(
        Config(
            "psconv2d-dilation2",
            {"in_channels": 8, "out_channels": 8, "dilation": 2},
            {"in_channels": 8, "out_channels": 8, "dilation": 2},
            ((2, 8, 6, 9),),
        ),
        Config(
            "psgconv2d-groups4-stride2",
            {"in_channels": 16, "out_channels": 16, "stride": 2, "dilation": 1, "groups": 4},
            {"in_channels": 16, "out_channels": 16, "stride": 2, "dilation": 1, "groups": 4},
            ((2, 16, 4, 7),),
        ),
        Config(
            "psgconv2d-groups2",
            {"in_channels": 8, "out_channels": 8, "dilation": 2, "groups": 2},
            {"in_channels": 8, "out_channels": 8, "dilation": 2, "groups": 2},
            ((2, 8, 5, 6),),
            expect="differ",
            why="groups=2 != parts=4: the official PSGConv2d masks output block i + j * groups of the dense "
            "convolution for part i of group j, ours block j * parts + i (the blocks its grouped convolutions "
            "cover).",
        ),
    ),
    patches=((".byte().cuda()", ".bool()"),),
    build=_build,
    deviation_zh="官方 PSGConv2d 对第 j 组第 i 部分在输出块 i + j * groups 处施加掩码，只有 groups 为 1 或等于 parts 时才正确；本实现在块 j * parts + i 处施加掩码。",
    deviation="The official PSGConv2d masks the dense convolution at output block i + j * groups for part i of "
    "group j, which is right only when groups is 1 or equals parts; ours masks block j * parts + i.",
    note="PSConv2d is built for the configuration without groups, PSGConv2d for the others. The official masked "
    "weights are zeroed before each forward (the official invariant); the stored state keeps random values there.",
)
