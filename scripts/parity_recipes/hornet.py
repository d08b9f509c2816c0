"""HorNet's gnConv against the official ``hornet.py`` (``gnconv``, depthwise 7x7 form): the same ``(N, C, H, W)``
layout and the same parameter names, so no adapter or renaming is needed. Configurations of order 5 (the class
default), and orders 2 and 3 with the HorNet models' scale 1/3, on non-square maps."""

from scripts.parity import Config, Recipe

from ._common import TIMM_LAYERS

RECIPE = Recipe(
    module="hornet",
    repo="https://github.com/raoyongming/HorNet",
    file="hornet.py",
    cls="gnconv",
    configs=(
        Config("default", {"dim": 16, "order": 5}, {"channels": 16, "order": 5}, ((2, 16, 4, 7),)),
        Config(
            "order-2-scale-third",
            {"dim": 12, "order": 2, "s": 1.0 / 3.0},
            {"channels": 12, "order": 2, "scale": 1.0 / 3.0},
            ((1, 12, 6, 7),),
        ),
        Config(
            "order-3-scale-third",
            {"dim": 16, "order": 3, "s": 1.0 / 3.0},
            {"channels": 16, "order": 3, "scale": 1.0 / 3.0},
            ((1, 16, 5, 7),),
        ),
    ),
    stubs={
        "timm": "",
        "timm.models": "",
        "timm.models.layers": TIMM_LAYERS,
        "timm.models.registry": "def register_model(fn):\n    return fn\n",
    },
    note="timm (imported by the file for the HorNet network, not used by gnconv) is stubbed.",
)
