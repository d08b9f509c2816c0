"""DO-Conv against the official ``do_conv_pytorch_1_10.py`` (``DOConv2d``, the file for torch >= 1.10).

The composed kernel ``D o W`` with random ``D`` (and ``D_diag``) is compared for DO-Conv, DO-GConv
(``groups = 2``, the official reshape) with ``D_mul > M N``, and DO-DConv (depthwise, non-square kernel).
"""

from scripts.parity import Config, Recipe

DEFAULT = {"in_channels": 8, "out_channels": 8, "kernel_size": 3, "padding": 1}
GROUPED = {
    "in_channels": 8,
    "out_channels": 8,
    "kernel_size": 3,
    "D_mul": 10,
    "stride": 2,
    "padding": 1,
    "groups": 2,
}
DEPTHWISE = {
    "in_channels": 8,
    "out_channels": 8,
    "kernel_size": (3, 5),
    "padding": (1, 2),
    "groups": 8,
    "bias": False,
}

RECIPE = Recipe(
    module="do-conv",
    repo="https://github.com/yangyanli/DO-Conv",
    file="do_conv_pytorch_1_10.py",
    cls="DOConv2d",
    configs=(
        Config("default", DEFAULT, DEFAULT, ((2, 8, 5, 6),)),
        Config("groups2-dmul10-stride2", GROUPED, GROUPED, ((2, 8, 5, 7),)),
        Config("depthwise-no-bias", DEPTHWISE, DEPTHWISE, ((2, 8, 4, 7),)),
    ),
    note="D_diag is a requires_grad=False Parameter officially and a buffer here, under the same key d_diag; "
    "both are randomised with the rest of the state.",
)
