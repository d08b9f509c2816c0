"""RepVGG block against the official ``repvgg.py`` (``RepVGGBlock``): training form and deploy form.

The training form (3x3-BN + 1x1-BN + identity-BN, ReLU) with and without the identity branch (stride 2, new
width, groups), and the deploy form (one 3x3 conv with bias, ReLU) built with ``deploy=True``.
"""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="repvgg",
    repo="https://github.com/DingXiaoH/RepVGG",
    file="repvgg.py",
    cls="RepVGGBlock",
    configs=(
        Config(
            "default-identity",
            {"in_channels": 8, "out_channels": 8, "kernel_size": 3, "padding": 1},
            {"in_channels": 8, "out_channels": 8},
            ((2, 8, 5, 7),),
        ),
        Config(
            "stride2-groups2-no-identity",
            {"in_channels": 8, "out_channels": 12, "kernel_size": 3, "stride": 2, "padding": 1, "groups": 2},
            {"in_channels": 8, "out_channels": 12, "stride": 2, "groups": 2},
            ((2, 8, 7, 9),),
        ),
        Config(
            "deploy",
            {"in_channels": 8, "out_channels": 8, "kernel_size": 3, "padding": 1, "deploy": True},
            {"in_channels": 8, "out_channels": 8, "deploy": True},
            ((2, 8, 5, 6),),
        ),
    ),
    rename=(
        (r"^rbr_dense\.conv\.", "dense_conv."),
        (r"^rbr_dense\.bn\.", "dense_bn."),
        (r"^rbr_1x1\.conv\.", "point_conv."),
        (r"^rbr_1x1\.bn\.", "point_bn."),
        (r"^rbr_identity\.", "identity_bn."),
        (r"^rbr_reparam\.", "fused_conv."),
    ),
)
