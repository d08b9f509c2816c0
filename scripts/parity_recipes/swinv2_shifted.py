"""Swin V2 shifted-window attention (cyclic shift, shift mask) against the official ``SwinTransformerBlock``
of ``models/swin_transformer_v2.py`` with ``shift_size > 0`` (see ``swinv2.py`` for how it is run)."""

from scripts.parity import Config, Recipe
from scripts.parity_recipes.swinv2 import DROP, NOTE, RENAME, STUBS, build_attention_only, call_on_tokens

RECIPE = Recipe(
    module="swinv2-shifted",
    repo="https://github.com/microsoft/Swin-Transformer",
    file="models/swin_transformer_v2.py",
    cls="SwinTransformerBlock",
    configs=(
        Config(
            "default",
            {"dim": 16, "input_resolution": (8, 12), "num_heads": 2, "window_size": 4, "shift_size": 2},
            {"channels": 16, "num_heads": 2, "window_size": 4, "shift_size": 2},
            ((1, 16, 8, 12),),
        ),
        Config(
            "window-3",
            {"dim": 8, "input_resolution": (6, 9), "num_heads": 4, "window_size": 3, "shift_size": 1},
            {"channels": 8, "num_heads": 4, "window_size": 3, "shift_size": 1},
            ((1, 8, 6, 9),),
        ),
    ),
    rename=RENAME,
    drop=DROP,
    stubs=STUBS,
    build=build_attention_only,
    call=call_on_tokens,
    note=NOTE,
)
