"""VAN's attention layer against the official ``models/van.py`` (``Attention``: 1x1 projection, GELU, LKA, 1x1
projection, residual): same parameter names and layout; one square and one non-square configuration."""

from scripts.parity import Config, Recipe
from scripts.parity_recipes.van import STUBS

RECIPE = Recipe(
    module="van-attention",
    repo="https://github.com/Visual-Attention-Network/VAN-Classification",
    file="models/van.py",
    cls="Attention",
    configs=(
        Config("default", {"d_model": 8}, {"channels": 8}, ((2, 8, 6, 6),)),
        Config("non-square", {"d_model": 6}, {"channels": 6}, ((2, 6, 7, 4),)),
    ),
    stubs=STUBS,
    note="timm (imported by the file for the VAN network, not used by Attention) is stubbed.",
)
