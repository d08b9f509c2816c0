"""ACNet's asymmetric convolution block against the official ``acnet/acb.py`` (``ACBlock``, training-time form).

The KxK, 1xK and Kx1 branches with their BNs are compared in eval and train mode: the usual "same" padding, and
a padding below ``K // 2`` (the official cropping path) with stride and groups.
"""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="acnet",
    repo="https://github.com/DingXiaoH/ACNet",
    file="acnet/acb.py",
    cls="ACBlock",
    configs=(
        Config(
            "default",
            {"in_channels": 8, "out_channels": 8, "kernel_size": 3, "padding": 1},
            {"in_channels": 8, "out_channels": 8, "kernel_size": 3, "padding": 1},
            ((2, 8, 5, 7),),
        ),
        Config(
            "k5-crop-stride2-groups2",
            {"in_channels": 8, "out_channels": 12, "kernel_size": 5, "stride": 2, "padding": 1, "groups": 2},
            {"in_channels": 8, "out_channels": 12, "kernel_size": 5, "stride": 2, "padding": 1, "groups": 2},
            ((2, 8, 7, 9),),
        ),
    ),
)
