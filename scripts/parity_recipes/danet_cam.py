"""DANet's channel attention against the official ``encoding/nn/da_att.py`` (``CAM_Module``)."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="danet-cam",
    repo="https://github.com/junfu1115/DANet",
    file="encoding/nn/da_att.py",
    cls="CAM_Module",
    configs=(
        Config("default", {"in_dim": 16}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config("square", {"in_dim": 24}, {"channels": 24}, ((2, 24, 4, 4),)),
    ),
)
