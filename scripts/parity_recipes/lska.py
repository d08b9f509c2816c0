"""LSKA against the official ``models/van.py`` (``LSKA``) of the LSKA repository: same parameter names, same
``(N, C, H, W)`` layout; the default kernel size 7 and the two dilations of the official table (11 with dilation
2, 23 with dilation 3), on non-square maps."""

from scripts.parity import Config, Recipe
from scripts.parity_recipes.van import STUBS

RECIPE = Recipe(
    module="lska",
    repo="https://github.com/StevenLauHKHK/Large-Separable-Kernel-Attention",
    file="models/van.py",
    cls="LSKA",
    configs=(
        Config("k7", {"dim": 8, "k_size": 7}, {"channels": 8, "kernel_size": 7}, ((2, 8, 6, 7),)),
        Config("k11", {"dim": 6, "k_size": 11}, {"channels": 6, "kernel_size": 11}, ((2, 6, 9, 5),)),
        Config("k23", {"dim": 4, "k_size": 23}, {"channels": 4, "kernel_size": 23}, ((2, 4, 10, 12),)),
    ),
    stubs=STUBS,
    note="timm (imported by the file for the VAN network, not used by LSKA) is stubbed.",
)
