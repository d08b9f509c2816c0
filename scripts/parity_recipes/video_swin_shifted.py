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
            _official(8, 2, (2, 2, 2), True),
            {"channels": 8, "num_heads": 2, "window_size": (2, 2, 2), "shift_size": (1, 1, 1)},
            ((1, 8, 4, 4, 4),),
        ),
        Config(
            "padded",
            _official(8, 4, (2, 3, 3), True),
            {"channels": 8, "num_heads": 4, "window_size": (2, 3, 3), "shift_size": (1, 1, 1)},
            ((1, 8, 3, 4, 5),),
        ),
        Config(
            "padded-window-4x5x3",
            _official(4, 2, (4, 5, 3), True),
            {"channels": 4, "num_heads": 2, "window_size": (4, 5, 3), "shift_size": (2, 2, 1)},
            ((1, 4, 5, 6, 4),),
        ),
        Config(
            "short-clip",
            _official(8, 2, (8, 2, 2), True),
            {"channels": 8, "num_heads": 2, "window_size": (8, 2, 2), "shift_size": (4, 1, 1)},
            ((1, 8, 3, 4, 4),),
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
