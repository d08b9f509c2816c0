"""BiSeNet ARM against TorchSeg's ``furnace/seg_opr/seg_oprs.py`` (``AttentionRefinement``).

TorchSeg's class is a 3x3 conv-BN-ReLU followed by the attention (global pool, 1x1 conv, BN, sigmoid,
multiply); ours is the attention alone. ``attention`` replaces the official ``conv_3x3`` by an identity, so
the official attention runs on the input itself; ``as-published`` runs the class unchanged and must differ.
"""

from torch import nn

from scripts.parity import Config, Recipe


def _build(cls, kwargs):
    kwargs = dict(kwargs)
    attention_only = kwargs.pop("attention_only", False)
    module = cls(**kwargs)
    if attention_only:
        module.conv_3x3 = nn.Identity()
    return module


RECIPE = Recipe(
    module="bisenet-arm",
    repo="https://github.com/ycszen/TorchSeg",
    file="furnace/seg_opr/seg_oprs.py",
    cls="AttentionRefinement",
    configs=(
        Config(
            "attention",
            {"in_planes": 16, "out_planes": 16, "attention_only": True},
            {"channels": 16},
            ((2, 16, 5, 7),),
        ),
        Config(
            "attention-square",
            {"in_planes": 32, "out_planes": 32, "attention_only": True},
            {"channels": 32},
            ((2, 32, 3, 3),),
        ),
        Config(
            "as-published",
            {"in_planes": 16, "out_planes": 16},
            {"channels": 16},
            ((2, 16, 3, 5),),
            expect="differ",
            why="TorchSeg's class applies a 3x3 conv-BN-ReLU before the attention; ours is the attention alone",
        ),
    ),
    rename=((r"^channel_attention\.1\.conv\.", "conv."), (r"^channel_attention\.1\.bn\.", "bn.")),
    drop=(r"^conv_3x3\.",),
    build=_build,
    deviation_zh="TorchSeg 的 AttentionRefinement 在注意力之前多了一个 3x3 卷积-BN-ReLU；论文中的 ARM 以及本实现只包含注意力部分。",
    deviation=(
        "TorchSeg's AttentionRefinement puts a 3x3 conv-BN-ReLU in front of the attention; the paper's ARM, "
        "and ours, is the attention alone."
    ),
    note="The as-published configuration's conv_3x3 weights (and its BN statistics) have no counterpart in ours and are dropped.",
)
