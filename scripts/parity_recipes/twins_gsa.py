"""Twins GSA against the official dense-prediction code (``segmentation/gvt.py``, ``Attention``): the official
takes ``(N, HW, C)`` tokens and ``H, W``; ``call`` converts with ``cvattn.tokens``. Configurations with and
without sub-sampling, one on a map that the sub-sampling ratio does not divide."""

from scripts.parity import Config, Recipe
from scripts.parity_recipes.twins_lsa import STUBS, call_with_tokens

RECIPE = Recipe(
    module="twins-gsa",
    repo="https://github.com/Meituan-AutoML/Twins",
    file="segmentation/gvt.py",
    cls="Attention",
    configs=(
        Config(
            "default",
            {"dim": 16, "num_heads": 4, "qkv_bias": True, "sr_ratio": 2},
            {"channels": 16, "num_heads": 4, "sr_ratio": 2, "qkv_bias": True},
            ((2, 16, 4, 6),),
        ),
        Config(
            "no-sub-sampling",
            {"dim": 8, "num_heads": 2, "qkv_bias": False, "sr_ratio": 1},
            {"channels": 8, "num_heads": 2, "sr_ratio": 1, "qkv_bias": False},
            ((2, 8, 5, 7),),
        ),
        Config(
            "sr3-non-divisible",
            {"dim": 8, "num_heads": 2, "qkv_bias": True, "sr_ratio": 3},
            {"channels": 8, "num_heads": 2, "sr_ratio": 3, "qkv_bias": True},
            ((1, 8, 8, 11),),
        ),
    ),
    stubs=STUBS,
    call=call_with_tokens,
    note="timm, mmseg and mmcv (imported by the file for the backbones, not used by Attention) are stubbed.",
)
