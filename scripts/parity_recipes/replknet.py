"""RepLKNet's large-kernel conv against the official ``replknet.py`` (``ReparamLargeKernelConv``).

Depth-wise 13x13 with the 5x5 branch (RepLKNet's last stage), a 31x31 with stride 2 and grouped channels of a new
width, a large kernel without small branch, and the merged form (``small_kernel_merged=True``).
"""

from scripts.parity import Config, Recipe

from ._common import TIMM_LAYERS

RECIPE = Recipe(
    module="replknet",
    repo="https://github.com/DingXiaoH/RepLKNet-pytorch",
    file="replknet.py",
    cls="ReparamLargeKernelConv",
    configs=(
        Config(
            "depthwise-13-small-5",
            {
                "in_channels": 8,
                "out_channels": 8,
                "kernel_size": 13,
                "stride": 1,
                "groups": 8,
                "small_kernel": 5,
            },
            {"in_channels": 8, "out_channels": 8, "kernel_size": 13, "small_kernel": 5},
            ((2, 8, 9, 14),),
        ),
        Config(
            "k31-stride2-groups4-small-3",
            {
                "in_channels": 8,
                "out_channels": 12,
                "kernel_size": 31,
                "stride": 2,
                "groups": 4,
                "small_kernel": 3,
            },
            {
                "in_channels": 8,
                "out_channels": 12,
                "kernel_size": 31,
                "stride": 2,
                "groups": 4,
                "small_kernel": 3,
            },
            ((2, 8, 11, 16),),
        ),
        Config(
            "no-small-kernel",
            {
                "in_channels": 8,
                "out_channels": 8,
                "kernel_size": 7,
                "stride": 1,
                "groups": 8,
                "small_kernel": None,
            },
            {"in_channels": 8, "out_channels": 8, "kernel_size": 7, "small_kernel": None},
            ((2, 8, 6, 9),),
        ),
        Config(
            "merged",
            {
                "in_channels": 8,
                "out_channels": 8,
                "kernel_size": 13,
                "stride": 1,
                "groups": 8,
                "small_kernel": 5,
                "small_kernel_merged": True,
            },
            {"in_channels": 8, "out_channels": 8, "kernel_size": 13, "small_kernel": 5, "deploy": True},
            ((2, 8, 9, 7),),
        ),
    ),
    rename=(
        (r"^lkb_origin\.", "large."),
        (r"^small_conv\.", "small."),
        (r"^lkb_reparam\.", "fused_conv."),
    ),
    stubs={"timm": "", "timm.models": "", "timm.models.layers": TIMM_LAYERS},
    note="timm (imported by the file for DropPath, which the large-kernel conv does not use) is stubbed.",
)
