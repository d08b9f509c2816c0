"""Efficient attention against the official ``efficient_attention.py`` (``EfficientAttention``), with one and
several heads."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="efficient-attention",
    repo="https://github.com/cmsflash/efficient-attention",
    file="efficient_attention.py",
    cls="EfficientAttention",
    configs=(
        Config(
            "default",
            {"in_channels": 16, "key_channels": 8, "head_count": 1, "value_channels": 8},
            {"channels": 16},
            ((2, 16, 5, 7),),
        ),
        Config(
            "two-heads",
            {"in_channels": 16, "key_channels": 8, "head_count": 2, "value_channels": 12},
            {"channels": 16, "key_channels": 8, "value_channels": 12, "heads": 2},
            ((2, 16, 6, 4),),
        ),
        Config(
            "four-heads",
            {"in_channels": 24, "key_channels": 16, "head_count": 4, "value_channels": 16},
            {"channels": 24, "key_channels": 16, "value_channels": 16, "heads": 4},
            ((1, 24, 4, 5),),
        ),
    ),
)
