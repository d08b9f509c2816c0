"""PConv against the official ``models/fasternet.py`` (``Partial_conv3``) in its ``split_cat`` form (training and
inference), with the paper's 1/4 ratio, a 1/2 one and a channel count that 4 does not divide. The official
``slicing`` form is inference-only: its backward fails (it writes the conv's output into the cloned input in
place, over the slice the conv saved), so it cannot be recorded with input gradients.
"""

from scripts.parity import Config, Recipe

from ._common import TIMM_LAYERS

RECIPE = Recipe(
    module="pconv",
    repo="https://github.com/JierunChen/FasterNet",
    file="models/fasternet.py",
    cls="Partial_conv3",
    configs=(
        Config(
            "default-split-cat",
            {"dim": 16, "n_div": 4, "forward": "split_cat"},
            {"channels": 16},
            ((1, 16, 6, 7),),
        ),
        Config(
            "n-div-2",
            {"dim": 12, "n_div": 2, "forward": "split_cat"},
            {"channels": 12, "n_div": 2},
            ((1, 12, 5, 6),),
        ),
        Config(
            "odd-channels",
            {"dim": 18, "n_div": 4, "forward": "split_cat"},
            {"channels": 18},
            ((1, 18, 5, 7),),
        ),
    ),
    rename=((r"^partial_conv3\.", "conv."),),
    stubs={"timm": "", "timm.models": "", "timm.models.layers": TIMM_LAYERS},
    note="timm (imported by the file for DropPath and trunc_normal_ of the FasterNet network) is stubbed; "
    "mmdet is absent, so the file takes its own classification-only path.",
)
