"""MobileOne's re-parameterisable conv against the official ``mobileone.py`` (``MobileOneBlock``).

The depth-wise 3x3 unit with k = 4 branches, a dense 3x3 with stride 2, k = 2 and SE (no skip), the point-wise
1x1 unit (no scale branch) with k = 3, and the inference-mode form (``inference_mode=True``).
"""

from typing import Any

from scripts.parity import Config, Recipe

RENAME = (
    (r"rbr_conv\.", "conv_branches."),
    (r"rbr_scale\.", "scale_branch."),
    (r"rbr_skip\.", "skip_bn."),
    (r"reparam_conv\.", "fused_conv."),
    (r"se\.reduce\.", "se.fc1."),
    (r"se\.expand\.", "se.fc2."),
)


def se_as_linear(name: str, value: Any) -> Any:
    """The official SE's 1x1 convs ``(out, in, 1, 1)`` are ``nn.Linear`` here ``(out, in)``."""
    if ".se.fc" in f".{name}" and name.endswith(".weight"):
        return value[:, :, 0, 0]
    return value


RECIPE = Recipe(
    module="mobileone-conv",
    repo="https://github.com/apple/ml-mobileone",
    file="mobileone.py",
    cls="MobileOneBlock",
    configs=(
        Config(
            "depthwise-k4",
            {
                "in_channels": 8,
                "out_channels": 8,
                "kernel_size": 3,
                "padding": 1,
                "groups": 8,
                "num_conv_branches": 4,
            },
            {"in_channels": 8, "out_channels": 8, "kernel_size": 3, "groups": 8, "num_conv_branches": 4},
            ((2, 8, 5, 7),),
        ),
        Config(
            "dense-stride2-k2-se",
            {
                "in_channels": 8,
                "out_channels": 32,
                "kernel_size": 3,
                "stride": 2,
                "padding": 1,
                "num_conv_branches": 2,
                "use_se": True,
            },
            {
                "in_channels": 8,
                "out_channels": 32,
                "kernel_size": 3,
                "stride": 2,
                "num_conv_branches": 2,
                "use_se": True,
            },
            ((2, 8, 7, 9),),
        ),
        Config(
            "pointwise-k3",
            {"in_channels": 8, "out_channels": 8, "kernel_size": 1, "num_conv_branches": 3},
            {"in_channels": 8, "out_channels": 8, "kernel_size": 1, "num_conv_branches": 3},
            ((2, 8, 4, 6),),
        ),
        Config(
            "inference-mode",
            {
                "in_channels": 8,
                "out_channels": 8,
                "kernel_size": 3,
                "padding": 1,
                "groups": 8,
                "inference_mode": True,
            },
            {"in_channels": 8, "out_channels": 8, "kernel_size": 3, "groups": 8, "deploy": True},
            ((2, 8, 5, 6),),
        ),
    ),
    rename=RENAME,
    convert=se_as_linear,
)
