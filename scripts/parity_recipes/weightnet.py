"""WeightNet against the official MegEngine ``weightnet.py`` (``WeightNet``), run on a PyTorch shim.

1x1 (as the paper's ShuffleNetV2 uses it) and 3x3 with stride 2, a batch of one (the official code's separate
path), and a wide input whose descriptor has more than 16 channels (``C_in / 16 = 17``).
"""

from __future__ import annotations

from typing import Any

from torch import nn

from scripts.parity import Config, Recipe

from ._weightnet import NOTE, RENAME, REPO, STUBS, Official


def _build(cls: Any, kwargs: dict[str, Any]) -> nn.Module:
    return Official(cls(**kwargs), kwargs["inp"])


def _config(name: str, inp: int, oup: int, k: int, stride: int, shape: tuple[int, ...]) -> Config:
    return Config(
        name,
        {"inp": inp, "oup": oup, "ksize": k, "stride": stride},
        {"in_channels": inp, "out_channels": oup, "kernel_size": k, "stride": stride},
        (shape,),
    )


RECIPE = Recipe(
    module="weightnet",
    repo=REPO,
    file="weightnet.py",
    cls="WeightNet",
    configs=(
        _config("1x1", 16, 24, 1, 1, (2, 16, 3, 5)),
        _config("3x3-stride2", 12, 8, 3, 2, (3, 12, 7, 6)),
        _config("batch-1", 16, 16, 1, 1, (1, 16, 4, 5)),
        _config("wide-descriptor", 272, 4, 1, 1, (1, 272, 2, 3)),
    ),
    rename=RENAME,
    stubs=STUBS,
    build=_build,
    note=NOTE,
)
