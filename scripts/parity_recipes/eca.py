"""ECA against the official ``models/eca_module.py`` (``eca_layer``): 1-D conv across the pooled channels."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="eca",
    repo="https://github.com/BangguWu/ECANet",
    file="models/eca_module.py",
    cls="eca_layer",
    configs=(
        Config("k3", {"channel": 16, "k_size": 3}, {"channels": 16, "kernel_size": 3}, ((2, 16, 5, 7),)),
        Config("k5", {"channel": 24, "k_size": 5}, {"channels": 24, "kernel_size": 5}, ((2, 24, 4, 4),)),
    ),
)
