"""Swin SW-MSA (cyclic shift by M // 2, shift mask) against the official dense-prediction backbone: a
``BasicLayer`` of two blocks whose first (W-MSA) block is replaced by a pass-through, so the second block runs
SW-MSA with the mask the layer computes for the padded map (see ``swin.py`` for the rest)."""

from scripts.parity import Config, Recipe
from scripts.parity_recipes.swin import (
    DROP,
    NOTE,
    PATCHES,
    RENAME,
    STUBS,
    build_attention_only,
    call_on_tokens,
)

RECIPE = Recipe(
    module="swin-shifted",
    repo="https://github.com/SwinTransformer/Swin-Transformer-Object-Detection",
    file="mmdet/models/backbones/swin_transformer.py",
    cls="BasicLayer",
    configs=(
        Config(
            "default",
            {"dim": 16, "num_heads": 2, "window_size": 4, "shifted": True},
            {"channels": 16, "num_heads": 2, "window_size": 4, "shift_size": 2},
            ((1, 16, 8, 8),),
        ),
        Config(
            "padded",
            {"dim": 8, "num_heads": 4, "window_size": 3, "shifted": True},
            {"channels": 8, "num_heads": 4, "window_size": 3, "shift_size": 1},
            ((1, 8, 7, 10),),
        ),
        Config(
            "padded-window-5",
            {"dim": 8, "num_heads": 2, "window_size": 5, "shifted": True},
            {"channels": 8, "num_heads": 2, "window_size": 5, "shift_size": 2},
            ((1, 8, 9, 12),),
        ),
    ),
    rename=RENAME,
    drop=DROP,
    patches=PATCHES,
    stubs=STUBS,
    build=build_attention_only,
    call=call_on_tokens,
    note=NOTE + " The layer's first block (W-MSA) is replaced by a pass-through.",
)
