"""scSE's channel branch (cSE) against the official ``squeeze_and_excitation.py`` (``ChannelSELayer``)."""

from scripts.parity import Config, Recipe

from ._common import as_conv1x1

RECIPE = Recipe(
    module="scse-cse",
    repo="https://github.com/ai-med/squeeze_and_excitation",
    file="squeeze_and_excitation/squeeze_and_excitation.py",
    cls="ChannelSELayer",
    configs=(
        Config("default", {"num_channels": 16}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config(
            "reduction-4",
            {"num_channels": 24, "reduction_ratio": 4},
            {"channels": 24, "reduction": 4},
            ((2, 24, 4, 4),),
        ),
    ),
    convert=as_conv1x1,
)
