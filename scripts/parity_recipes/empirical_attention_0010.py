"""Generalised attention with the key-content term only (``"0010"``) against mmcv's
``mmcv/cnn/bricks/generalized_attention.py`` (``GeneralizedAttention``), whose shortcut computes one context
vector per image."""

from scripts.parity import Config, Recipe

from .empirical_attention import MMENGINE_STUBS

RECIPE = Recipe(
    module="empirical-attention-0010",
    repo="https://github.com/open-mmlab/mmcv",
    file="mmcv/cnn/bricks/generalized_attention.py",
    cls="GeneralizedAttention",
    configs=(
        Config(
            "non-square",
            {"in_channels": 16, "num_heads": 8, "attention_type": "0010"},
            {"channels": 16, "num_heads": 8},
            ((2, 16, 5, 7),),
        ),
        Config(
            "heads-9-kv-stride-1",
            {"in_channels": 18, "attention_type": "0010", "kv_stride": 1},
            {"channels": 18, "kv_stride": 1},
            ((2, 18, 6, 6),),
        ),
    ),
    stubs=MMENGINE_STUBS,
)
