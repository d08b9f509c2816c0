"""Diverse Branch Block against the official ``diversebranchblock.py`` (``DiverseBranchBlock``).

The training form with the identity-based 1x1 (default), with a plain 1x1 of another width (stride 2, groups
2, 5x5 kernel), the depth-wise form (no 1x1 branch, pooling on the input, doubled middle width), and the deploy
form built with ``deploy=True``.
"""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="dbb",
    repo="https://github.com/DingXiaoH/DiverseBranchBlock",
    file="diversebranchblock.py",
    cls="DiverseBranchBlock",
    configs=(
        Config(
            "default-identity-1x1",
            {"in_channels": 8, "out_channels": 8, "kernel_size": 3, "padding": 1},
            {"in_channels": 8, "out_channels": 8, "kernel_size": 3},
            ((2, 8, 5, 7),),
        ),
        Config(
            "k5-stride2-groups2-internal16",
            {
                "in_channels": 8,
                "out_channels": 12,
                "kernel_size": 5,
                "stride": 2,
                "padding": 2,
                "groups": 2,
                "internal_channels_1x1_3x3": 16,
            },
            {
                "in_channels": 8,
                "out_channels": 12,
                "kernel_size": 5,
                "stride": 2,
                "groups": 2,
                "internal_channels": 16,
            },
            ((2, 8, 9, 11),),
        ),
        Config(
            "depthwise",
            {"in_channels": 8, "out_channels": 8, "kernel_size": 3, "padding": 1, "groups": 8},
            {"in_channels": 8, "out_channels": 8, "kernel_size": 3, "groups": 8},
            ((2, 8, 6, 5),),
        ),
        Config(
            "deploy",
            {"in_channels": 8, "out_channels": 8, "kernel_size": 3, "padding": 1, "deploy": True},
            {"in_channels": 8, "out_channels": 8, "kernel_size": 3, "deploy": True},
            ((2, 8, 5, 6),),
        ),
    ),
    rename=(
        (r"^dbb_origin\.conv\.", "origin_conv."),
        (r"^dbb_origin\.bn\.", "origin_bn."),
        (r"^dbb_1x1\.conv\.", "point_conv."),
        (r"^dbb_1x1\.bn\.", "point_bn."),
        (r"^dbb_avg\.conv\.", "avg_conv."),
        (r"^dbb_avg\.bn\.bn\.", "avg_pad_bn."),
        (r"^dbb_avg\.avgbn\.", "avg_bn."),
        (r"^dbb_1x1_kxk\.(idconv1|conv1)\.", "kxk_conv1."),
        (r"^dbb_1x1_kxk\.bn1\.bn\.", "kxk_bn1."),
        (r"^dbb_1x1_kxk\.conv2\.", "kxk_conv2."),
        (r"^dbb_1x1_kxk\.bn2\.", "kxk_bn2."),
        (r"^dbb_reparam\.", "fused_conv."),
    ),
    note="The identity-based 1x1 conv keeps its identity kernel outside the state dict in both (official: a plain "
    "attribute; here a non-persistent buffer), so only its learnt residual weight is compared.",
)
