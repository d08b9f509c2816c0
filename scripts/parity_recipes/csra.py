"""CSRA against the official ``pipeline/csra.py`` (``MHA``, the multi-head ensemble of ``CSRA`` heads).

One head (VOC setting), four heads with the max-pooling head (COCO setting) and the eight-head setting; the
official max-pooling head (``T = 99``) is ``inf`` in ours.
"""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="csra",
    repo="https://github.com/Kevinz-code/CSRA",
    file="pipeline/csra.py",
    cls="MHA",
    configs=(
        Config(
            "voc-1-head",
            {"num_heads": 1, "lam": 0.1, "input_dim": 16, "num_classes": 20},
            {"channels": 16, "num_classes": 20, "num_heads": 1, "lam": 0.1},
            ((2, 16, 5, 7),),
        ),
        Config(
            "coco-4-heads",
            {"num_heads": 4, "lam": 0.5, "input_dim": 12, "num_classes": 9},
            {"channels": 12, "num_classes": 9, "num_heads": 4, "lam": 0.5},
            ((3, 12, 4, 6),),
        ),
        Config(
            "8-heads",
            {"num_heads": 8, "lam": 0.3, "input_dim": 8, "num_classes": 5},
            {"channels": 8, "num_classes": 5, "num_heads": 8, "lam": 0.3},
            ((1, 8, 6, 3),),
        ),
    ),
    rename=((r"^multi_head\.(\d+)\.head\.", r"heads.\1."),),
    note="The official MHA's heads are taken in order; only the last of 2, 4, 6 or 8 heads pools by the maximum.",
)
