"""SegFormer efficient self-attention against the official ``mmseg/models/backbones/mix_transformer.py``
(``Attention``): the official takes ``(N, HW, C)`` tokens and ``H, W``; ``call`` converts with ``cvattn.tokens``.
Configurations with and without reduction, one on a map that the reduction does not divide."""

from scripts.parity import Config, Recipe
from scripts.parity_recipes.twins_lsa import STUBS, call_with_tokens

RECIPE = Recipe(
    module="segformer",
    repo="https://github.com/NVlabs/SegFormer",
    file="mmseg/models/backbones/mix_transformer.py",
    cls="Attention",
    configs=(
        Config(
            "default",
            {"dim": 16, "num_heads": 2, "qkv_bias": True, "sr_ratio": 2},
            {"channels": 16, "num_heads": 2, "sr_ratio": 2, "qkv_bias": True},
            ((2, 16, 4, 6),),
        ),
        Config(
            "no-reduction",
            {"dim": 10, "num_heads": 5, "qkv_bias": False, "sr_ratio": 1},
            {"channels": 10, "num_heads": 5, "sr_ratio": 1, "qkv_bias": False},
            ((2, 10, 5, 6),),
        ),
        Config(
            "sr4-non-divisible",
            {"dim": 8, "num_heads": 1, "qkv_bias": True, "sr_ratio": 4},
            {"channels": 8, "num_heads": 1, "sr_ratio": 4, "qkv_bias": True},
            ((1, 8, 9, 11),),
        ),
    ),
    stubs=STUBS,
    call=call_with_tokens,
    note="timm, mmseg and mmcv (imported by the file for the MiT encoder, not used by Attention) are stubbed.",
)
