"""GCT against the official ``PyTorch/GCT.py`` (``GCT``), l2 and l1 modes."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="gct",
    repo="https://github.com/z-x-yang/GCT",
    file="PyTorch/GCT.py",
    cls="GCT",
    configs=(
        Config("l2", {"num_channels": 16}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config("l1", {"num_channels": 24, "mode": "l1"}, {"channels": 24, "mode": "l1"}, ((2, 24, 4, 4),)),
    ),
)
