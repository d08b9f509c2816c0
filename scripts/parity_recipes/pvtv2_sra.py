"""PVT v2 spatial-reduction attention against the official ``classification/pvt_v2.py`` (``Attention`` with
``linear=False``): the official takes ``(N, HW, C)`` tokens and ``H, W``; ``call`` converts with
``cvattn.tokens``. Configurations with and without reduction, one on a map the reduction does not divide."""

from scripts.parity import Config, Recipe
from scripts.parity_recipes.pvt import STUBS, call_with_tokens

RECIPE = Recipe(
    module="pvtv2-sra",
    repo="https://github.com/whai362/PVT",
    file="classification/pvt_v2.py",
    cls="Attention",
    configs=(
        Config(
            "default",
            {"dim": 16, "num_heads": 2, "qkv_bias": True, "sr_ratio": 2, "linear": False},
            {"channels": 16, "num_heads": 2, "sr_ratio": 2, "qkv_bias": True},
            ((2, 16, 4, 6),),
        ),
        Config(
            "no-reduction",
            {"dim": 8, "num_heads": 1, "qkv_bias": False, "sr_ratio": 1, "linear": False},
            {"channels": 8, "num_heads": 1, "sr_ratio": 1, "qkv_bias": False},
            ((2, 8, 5, 7),),
        ),
        Config(
            "sr4-non-divisible",
            {"dim": 8, "num_heads": 2, "qkv_bias": True, "sr_ratio": 4, "linear": False},
            {"channels": 8, "num_heads": 2, "sr_ratio": 4, "qkv_bias": True},
            ((1, 8, 9, 11),),
        ),
    ),
    stubs=STUBS,
    call=call_with_tokens,
    note="timm (imported by the file for the PVT v2 network, not used by Attention) is stubbed.",
)
