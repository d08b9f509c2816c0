"""Triplet attention against the official root ``triplet_attention.py`` (``TripletAttention``, 7x7 gates)."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="triplet-attention",
    repo="https://github.com/landskape-ai/triplet-attention",
    file="triplet_attention.py",
    cls="TripletAttention",
    configs=(
        Config("default", {}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config("no-spatial", {"no_spatial": True}, {"channels": 12, "no_spatial": True}, ((2, 12, 6, 4),)),
    ),
    rename=((r"^(cw|hc|hw)\.conv\.conv\.", r"\1.0."), (r"^(cw|hc|hw)\.conv\.bn\.", r"\1.1.")),
)
