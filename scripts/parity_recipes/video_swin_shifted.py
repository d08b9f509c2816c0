"""Video Swin 3-D SW-MSA (cyclic shift by M // 2 per axis, shift mask) against the official backbone: a
``BasicLayer`` of two blocks whose first (W-MSA) block is replaced by a pass-through, so the second block runs
SW-MSA with the mask the layer computes for the padded clip (see ``video_swin.py`` for the rest)."""

from scripts.parity import Config, Recipe
from scripts.parity_recipes.video_swin import (
    DROP,
    NOTE,
    PATCHES,
    RENAME,
    STUBS,
    _official,
    build_attention_only,
    call_residual,
)

RECIPE = Recipe(
    module="video-swin-shifted",
    repo="https://github.com/SwinTransformer/Video-Swin-Transformer",
    file="mmaction/models/backbones/swin_transformer.py",
    cls="BasicLayer",
    configs=(
        Config(
            "default",
            _official(16, 2, (2, 4, 4), True),
            {"channels": 16, "num_heads": 2, "window_size": (2, 4, 4), "shift_size": (1, 2, 2)},
            ((1, 16, 4, 8, 8),),
        ),
        Config(
            "padded",
            _official(8, 4, (2, 3, 3), True),
            {"channels": 8, "num_heads": 4, "window_size": (2, 3, 3), "shift_size": (1, 1, 1)},
            ((1, 8, 5, 7, 10),),
        ),
        Config(
            "padded-window-4x5x3",
            _official(8, 2, (4, 5, 3), True),
            {"channels": 8, "num_heads": 2, "window_size": (4, 5, 3), "shift_size": (2, 2, 1)},
            ((1, 8, 6, 9, 7),),
        ),
        Config(
            "short-clip",
            _official(8, 2, (8, 4, 4), True),
            {"channels": 8, "num_heads": 2, "window_size": (8, 4, 4), "shift_size": (4, 2, 2)},
            ((2, 8, 3, 8, 8),),
        ),
    ),
    rename=RENAME,
    drop=DROP,
    patches=PATCHES,
    stubs=STUBS,
    build=build_attention_only,
    call=call_residual,
    note=NOTE + " The layer's first block (W-MSA) is replaced by a pass-through.",
)
