"""ConvNeXt V2 GRN against the official ``models/utils.py`` (``GRN``): the official layer works on channels-last
``(N, H, W, C)`` maps, so ``call`` permutes our ``(N, C, H, W)`` input with cvattn.tokens and permutes back."""

from cvattn.tokens import from_channels_last, to_channels_last
from scripts.parity import Config, Recipe


def _call(module, inputs):
    (x,) = inputs
    return from_channels_last(module(to_channels_last(x)))


def _convert(name, value):
    # official gamma/beta are (1, 1, 1, C); ours are (C,)
    return value.reshape(-1)


RECIPE = Recipe(
    module="convnextv2-grn",
    repo="https://github.com/facebookresearch/ConvNeXt-V2",
    file="models/utils.py",
    cls="GRN",
    configs=(
        Config("default", {"dim": 16}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config("square", {"dim": 24}, {"channels": 24}, ((3, 24, 4, 4),)),
    ),
    convert=_convert,
    stubs={"MinkowskiEngine": "SparseTensor = None\n"},
    call=_call,
    note="MinkowskiEngine (imported by the file for the sparse pre-training layers, not used by GRN) is stubbed.",
)
