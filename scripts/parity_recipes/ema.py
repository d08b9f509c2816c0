"""EMA against the official ``EMA_attention_module`` file (``EMA``; the file has no ``.py`` suffix). Parameter
names agree; the official concatenation of the two directional averages before the shared 1x1 conv is
computed by us as two separate 1x1 convs, which gives the same numbers."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="ema",
    repo="https://github.com/YOLOonMe/EMA-attention-module",
    file="EMA_attention_module",
    cls="EMA",
    configs=(
        Config("default", {"channels": 64, "factor": 32}, {"channels": 64}, ((2, 64, 3, 5),)),
        Config("factor-4", {"channels": 16, "factor": 4}, {"channels": 16, "factor": 4}, ((1, 16, 7, 9),)),
    ),
)
