"""Ghost module against the official ``ghostnet_pytorch/ghostnet.py`` (``GhostModule``): primary conv, cheap
depthwise conv, concatenation cut to ``oup`` channels."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="ghostnet",
    repo="https://github.com/huawei-noah/Efficient-AI-Backbones",
    file="ghostnet_pytorch/ghostnet.py",
    cls="GhostModule",
    configs=(
        Config("default", {"inp": 16, "oup": 16}, {"in_channels": 16, "out_channels": 16}, ((2, 16, 5, 7),)),
        Config(
            "ratio3-odd-out-k3-stride2-linear",
            {"inp": 8, "oup": 13, "kernel_size": 3, "ratio": 3, "dw_size": 5, "stride": 2, "relu": False},
            {
                "in_channels": 8,
                "out_channels": 13,
                "kernel_size": 3,
                "ratio": 3,
                "dw_size": 5,
                "stride": 2,
                "relu": False,
            },
            ((2, 8, 7, 9),),
        ),
    ),
    rename=(
        (r"^(primary_conv|cheap_operation)\.0\.", r"\1.conv."),
        (r"^(primary_conv|cheap_operation)\.1\.", r"\1.bn."),
    ),
)
