"""SRM against the official ``models/recalibration_modules.py`` (``SRMLayer``): style pooling, channel-wise fully
connected integration, batch norm and sigmoid; eval and train mode (batch statistics and running-stat update)."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="srm",
    repo="https://github.com/hyunjaelee410/style-based-recalibration-module",
    file="models/recalibration_modules.py",
    cls="SRMLayer",
    configs=(
        Config("default", {"channel": 16}, {"channels": 16}, ((3, 16, 5, 7),)),
        Config("square", {"channel": 8}, {"channels": 8}, ((4, 8, 6, 6),)),
    ),
)
