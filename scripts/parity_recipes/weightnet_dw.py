"""WeightNet's depthwise form against the official MegEngine ``weightnet.py`` (``WeightNet_DW``), on a PyTorch shim."""

from __future__ import annotations

from typing import Any

from torch import nn

from scripts.parity import Config, Recipe

from ._weightnet import NOTE, RENAME, REPO, STUBS, Official


def _build(cls: Any, kwargs: dict[str, Any]) -> nn.Module:
    return Official(cls(**kwargs), kwargs["inp"])


RECIPE = Recipe(
    module="weightnet-dw",
    repo=REPO,
    file="weightnet.py",
    cls="WeightNet_DW",
    configs=(
        Config(
            "3x3",
            {"inp": 16, "ksize": 3, "stride": 1},
            {"channels": 16, "kernel_size": 3, "stride": 1},
            ((2, 16, 5, 7),),
        ),
        Config(
            "5x5-stride2",
            {"inp": 24, "ksize": 5, "stride": 2},
            {"channels": 24, "kernel_size": 5, "stride": 2},
            ((3, 24, 9, 6),),
        ),
    ),
    rename=RENAME,
    stubs=STUBS,
    build=_build,
    note=NOTE,
)
