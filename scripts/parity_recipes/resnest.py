"""ResNeSt split attention against the official ``resnest/torch/models/splat.py`` (``SplAtConv2d``): radix 2 with
BatchNorm as the ResNeSt blocks build it, radix 2 with cardinality 2, stride 2 and no normalisation (the
official defaults ``norm_layer=None, bias=True``), and radix 1 (sigmoid gate)."""

from torch import nn

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="resnest",
    repo="https://github.com/zhanghang1989/ResNeSt",
    file="resnest/torch/models/splat.py",
    cls="SplAtConv2d",
    configs=(
        Config(
            "block",
            {
                "in_channels": 12,
                "channels": 12,
                "kernel_size": 3,
                "padding": 1,
                "bias": False,
                "radix": 2,
                "norm_layer": nn.BatchNorm2d,
            },
            {"in_channels": 12, "out_channels": 12},
            ((2, 12, 5, 7),),
        ),
        Config(
            "groups-2-stride-2-no-norm",
            {
                "in_channels": 8,
                "channels": 8,
                "kernel_size": 3,
                "stride": 2,
                "padding": 1,
                "groups": 2,
                "radix": 2,
            },
            {"in_channels": 8, "out_channels": 8, "stride": 2, "groups": 2, "bias": True, "norm_layer": None},
            ((2, 8, 6, 9),),
        ),
        Config(
            "radix-1",
            {
                "in_channels": 8,
                "channels": 8,
                "kernel_size": 3,
                "padding": 1,
                "bias": False,
                "radix": 1,
                "norm_layer": nn.BatchNorm2d,
            },
            {"in_channels": 8, "out_channels": 8, "radix": 1},
            ((2, 8, 5, 5),),
        ),
    ),
)
