"""PVT v2 linear SRA against the official ``classification/pvt_v2.py`` (``Attention`` with ``linear=True``): the
official takes ``(N, HW, C)`` tokens and ``H, W``; ``call`` converts with ``cvattn.tokens``. Maps larger and
smaller than the 7 x 7 pooled grid, square and not."""

from scripts.parity import Config, Recipe
from scripts.parity_recipes.pvt import STUBS, call_with_tokens

RECIPE = Recipe(
    module="pvtv2",
    repo="https://github.com/whai362/PVT",
    file="classification/pvt_v2.py",
    cls="Attention",
    configs=(
        Config(
            "default",
            {"dim": 8, "num_heads": 1, "qkv_bias": True, "linear": True},
            {"channels": 8, "num_heads": 1, "qkv_bias": True},
            ((1, 8, 10, 13),),
        ),
        Config(
            "two-heads-small-map",
            {"dim": 16, "num_heads": 2, "qkv_bias": False, "linear": True},
            {"channels": 16, "num_heads": 2, "qkv_bias": False},
            ((2, 16, 5, 6),),
        ),
        Config(
            "two-heads-14x14",
            {"dim": 4, "num_heads": 2, "qkv_bias": True, "linear": True},
            {"channels": 4, "num_heads": 2, "qkv_bias": True},
            ((1, 4, 14, 14),),
        ),
    ),
    stubs=STUBS,
    call=call_with_tokens,
    note="timm (imported by the file for the PVT v2 network, not used by Attention) is stubbed.",
)
