"""The RepLK block against the official ``replknet.py`` (``RepLKBlock``): pre-BN, 1x1 conv-BN-ReLU, large-kernel
depth-wise conv with small branch, ReLU, 1x1 conv-BN, shortcut.

RepLKNet's 31x31 + 5x5 (dw_ratio 1), a wider depth-wise part (dw_channels 16) with 13x13 + 3x3, and the merged
large kernel (``small_kernel_merged=True``). Stochastic depth is off (it is random).
"""

from scripts.parity import Config, Recipe

from ._common import TIMM_LAYERS

RECIPE = Recipe(
    module="replknet-block",
    repo="https://github.com/DingXiaoH/RepLKNet-pytorch",
    file="replknet.py",
    cls="RepLKBlock",
    configs=(
        Config(
            "k31-small-5",
            {"in_channels": 8, "dw_channels": 8, "block_lk_size": 31, "small_kernel": 5, "drop_path": 0.0},
            {"channels": 8, "kernel_size": 31, "small_kernel": 5},
            ((2, 8, 9, 12),),
        ),
        Config(
            "dw16-k13-small-3",
            {"in_channels": 8, "dw_channels": 16, "block_lk_size": 13, "small_kernel": 3, "drop_path": 0.0},
            {"channels": 8, "dw_channels": 16, "kernel_size": 13, "small_kernel": 3},
            ((2, 8, 7, 10),),
        ),
        Config(
            "merged",
            {
                "in_channels": 8,
                "dw_channels": 8,
                "block_lk_size": 13,
                "small_kernel": 5,
                "drop_path": 0.0,
                "small_kernel_merged": True,
            },
            {"channels": 8, "kernel_size": 13, "small_kernel": 5, "deploy": True},
            ((2, 8, 9, 7),),
        ),
    ),
    rename=(
        (r"^prelkb_bn\.", "pre_bn."),
        (r"^large_kernel\.lkb_origin\.", "large_kernel.large."),
        (r"^large_kernel\.small_conv\.", "large_kernel.small."),
        (r"^large_kernel\.lkb_reparam\.", "large_kernel.fused_conv."),
    ),
    stubs={"timm": "", "timm.models": "", "timm.models.layers": TIMM_LAYERS},
    note="timm (imported by the file for DropPath, which is built only for drop_path > 0) is stubbed.",
)
