"""The MobileOne block (depth-wise 3x3 unit, then point-wise 1x1 unit) against two official ``MobileOneBlock``s
stacked as ``MobileOne._make_stage`` stacks them (``mobileone.py``).

k = 4 with a wider output, k = 1 with stride 2 and SE (as in MobileOne-S4), and the inference-mode pair.
"""

from typing import Any

from torch import nn

from scripts.parity import Config, Recipe

from .mobileone_conv import RENAME, se_as_linear


def build_pair(cls: Any, kwargs: dict[str, Any]) -> nn.Module:
    """``MobileOne._make_stage``'s pair: depth-wise 3x3 (padding 1, groups = in), then point-wise 1x1."""
    cin, cout, stride = kwargs["in_channels"], kwargs["out_channels"], kwargs.get("stride", 1)
    common = {k: kwargs[k] for k in ("num_conv_branches", "use_se", "inference_mode") if k in kwargs}
    return nn.Sequential(
        cls(cin, cin, kernel_size=3, stride=stride, padding=1, groups=cin, **common),
        cls(cin, cout, kernel_size=1, stride=1, padding=0, groups=1, **common),
    )


RECIPE = Recipe(
    module="mobileone",
    repo="https://github.com/apple/ml-mobileone",
    file="mobileone.py",
    cls="MobileOneBlock",
    configs=(
        Config(
            "k4-wider",
            {"in_channels": 8, "out_channels": 16, "num_conv_branches": 4},
            {"in_channels": 8, "out_channels": 16, "num_conv_branches": 4},
            ((2, 8, 5, 7),),
        ),
        Config(
            "k1-stride2-se",
            {"in_channels": 16, "out_channels": 32, "stride": 2, "use_se": True},
            {"in_channels": 16, "out_channels": 32, "stride": 2, "num_conv_branches": 1, "use_se": True},
            ((2, 16, 7, 9),),
        ),
        Config(
            "inference-mode",
            {"in_channels": 8, "out_channels": 16, "inference_mode": True},
            {"in_channels": 8, "out_channels": 16, "deploy": True},
            ((2, 8, 5, 6),),
        ),
    ),
    rename=((r"^0\.", "depthwise."), (r"^1\.", "pointwise."), *RENAME),
    convert=se_as_linear,
    build=build_pair,
)
