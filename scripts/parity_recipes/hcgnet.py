"""HCGNet's SMG module against the official ``models/HCGNet_ImageNet.py`` (``_SMG``): squeeze cell, forget and
update gates, dense concatenation. Square maps only: the official forward sets ``H = W = x.size(-1)``."""

from scripts.parity import Config, Recipe

RENAME = (
    (r"^global_context3x3\.", "context3x3."),
    (r"^global_context5x5\.", "context3x3_dilated."),
    (r"^conv_3x3\.", "conv3x3."),
    (r"^conv_5x5\.", "conv3x3_dilated."),
    (r"^fcall\.", "update_fc."),
    (r"^bn_attention\.", "update_bn."),
    (r"^fc5x5\.", "fc3x3_dilated."),
    (r"^global_forget_context\.", "forget_context."),
    (r"^bn_forget\.", "forget_bn."),
    (r"^fc1\.", "forget_fc1."),
    (r"^fc2\.", "forget_fc2."),
)

# the biases of the three position-scoring 1x1 convs: a softmax over positions ignores them
DROP = (r"^global_(forget_)?context(3x3|5x5)?\.bias$",)

DEVIATION = (
    "The official forward sets H = W = x.size(-1) and fails on non-square maps, so only square maps are "
    "compared; ours uses the actual height and width."
)

NOTE = (
    "Dropped: the biases of the official global_context3x3, global_context5x5 and global_forget_context "
    "convolutions, which only shift the logits of a softmax over positions (ours has no bias there). The "
    "official BatchNorm1d on the (N, C') descriptors is compared with our BatchNorm on (N, C', 1, 1). "
    "Non-square inputs are not recorded because the official code raises on them."
)

RECIPE = Recipe(
    module="hcgnet",
    repo="https://github.com/winycg/HCGNet",
    file="models/HCGNet_ImageNet.py",
    cls="_SMG",
    configs=(
        Config(
            "default",
            {"in_channels": 8, "growth_rate": 8},
            {"channels": 8, "growth_rate": 8},
            ((2, 8, 6, 6),),
        ),
        Config(
            "reduction-4",
            {"in_channels": 4, "growth_rate": 8, "bn_size": 2, "reduction_factor": 4, "forget_factor": 4},
            {"channels": 4, "growth_rate": 8, "bn_size": 2, "reduction": 4, "forget_reduction": 4},
            ((2, 4, 5, 5),),
        ),
    ),
    rename=(
        (r"^conv1_1x1\.", "squeeze1x1."),
        (r"^conv2_3x3\.", "squeeze3x3."),
        *RENAME,
        (r"^(?!squeeze)", "gate."),
    ),
    drop=DROP,
    deviation_zh="官方 forward 令 H = W = x.size(-1)，遇到非正方形特征图会报错，因此只对正方形输入做对照；本实现使用实际的高和宽。",
    deviation=DEVIATION,
    note=NOTE,
)
