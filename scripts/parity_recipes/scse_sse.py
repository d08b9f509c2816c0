"""scSE's spatial branch (sSE) against the official ``squeeze_and_excitation.py`` (``SpatialSELayer``)."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="scse-sse",
    repo="https://github.com/ai-med/squeeze_and_excitation",
    file="squeeze_and_excitation/squeeze_and_excitation.py",
    cls="SpatialSELayer",
    configs=(
        Config("default", {"num_channels": 16}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config("square", {"num_channels": 8}, {"channels": 8}, ((3, 8, 6, 6),)),
    ),
)
