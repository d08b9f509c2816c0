"""NAFNet's simplified channel attention against the official ``basicsr/models/archs/NAFNet_arch.py``: the official
SCA is the ``sca`` ``nn.Sequential`` (``AdaptiveAvgPool2d(1)``, 1x1 conv) of a ``NAFBlock`` applied as
``x * sca(x)`` inside ``NAFBlock.forward``; ``build`` takes that ``sca`` from an official ``NAFBlock(c)`` (whose
SCA has ``c`` channels) and applies it the same way."""

from torch import nn

from scripts.parity import Config, Recipe

from ._nafnet import FILE, NOTE, PATCHES, REPO, STUBS


class _OfficialSCA(nn.Module):
    """``x * sca(x)``, as ``NAFBlock.forward`` applies the official ``sca``."""

    def __init__(self, sca: nn.Module) -> None:
        super().__init__()
        self.sca = sca

    def forward(self, x):
        return x * self.sca(x)


def _build(cls, kwargs):
    return _OfficialSCA(cls(**kwargs).sca)


RECIPE = Recipe(
    module="nafnet-sca",
    repo=REPO,
    file=FILE,
    cls="NAFBlock",
    configs=(
        Config("default", {"c": 16}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config("narrow", {"c": 6}, {"channels": 6}, ((1, 6, 9, 4),)),
    ),
    rename=((r"^sca\.1\.", "conv."),),
    patches=PATCHES,
    stubs=STUBS,
    build=_build,
    note=NOTE + " Only the block's sca is run.",
)
