"""GFNet's global filter against the official ``gfnet.py`` (``GlobalFilter``): the official takes ``(N, HW, C)``
tokens and the map size; ``call`` turns our ``(N, C, H, W)`` input into tokens and folds the output back. Square
and non-square maps at the filter's own size (the official layer accepts no other)."""

from cvattn.tokens import from_tokens, to_tokens
from scripts.parity import Config, Recipe

from ._common import TIMM_LAYERS


def _call(module, inputs):
    (x,) = inputs
    h, w = x.shape[-2:]
    return from_tokens(module(to_tokens(x), spatial_size=(h, w)), (h, w))


RECIPE = Recipe(
    module="gfnet",
    repo="https://github.com/raoyongming/GFNet",
    file="gfnet.py",
    cls="GlobalFilter",
    configs=(
        Config("default", {"dim": 16, "h": 6, "w": 4}, {"channels": 16, "h": 6, "w": 4}, ((2, 16, 6, 6),)),
        Config("non-square", {"dim": 12, "h": 5, "w": 5}, {"channels": 12, "h": 5, "w": 5}, ((2, 12, 5, 9),)),
        Config("even-width", {"dim": 8, "h": 7, "w": 6}, {"channels": 8, "h": 7, "w": 6}, ((1, 8, 7, 10),)),
    ),
    patches=(("from numpy.lib.arraypad import pad\n", ""),),
    stubs={
        "timm": "",
        "timm.data": "IMAGENET_DEFAULT_MEAN = (0.485, 0.456, 0.406)\nIMAGENET_DEFAULT_STD = (0.229, 0.224, 0.225)\n",
        "timm.models": "",
        "timm.models.layers": TIMM_LAYERS,
    },
    call=_call,
    note="The file's unused numpy.lib.arraypad import (private in NumPy 2) is removed; timm, imported for the "
    "rest of the network, is stubbed. The official layer casts its input to float32 before the FFT, so the "
    "fixture carries float32 rounding of the input.",
)
