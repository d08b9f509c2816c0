"""Mixed pooling module against the official ``models/customize.py`` (``StripPooling``, with SPNet's
``up_kwargs``: bilinear, corners aligned): pyramid-pooling short-range branch, strip-pooling long-range
branch, 1x1 conv-BN, ``ReLU(x + out)``."""

from torch import nn

from scripts.parity import Config, Recipe

_UP = {"mode": "bilinear", "align_corners": True}


def _build(cls, kwargs):
    return cls(**kwargs, norm_layer=nn.BatchNorm2d)


RECIPE = Recipe(
    module="strip-pooling-mpm",
    repo="https://github.com/Andrew-Qibin/SPNet",
    file="models/customize.py",
    cls="StripPooling",
    configs=(
        Config(
            "default",
            {"in_channels": 8, "pool_size": (20, 12), "up_kwargs": _UP},
            {"channels": 8},
            ((2, 8, 5, 7),),
        ),
        Config(
            "pool-3-2",
            {"in_channels": 16, "pool_size": (3, 2), "up_kwargs": _UP},
            {"channels": 16, "pool_size": (3, 2)},
            ((2, 16, 4, 4),),
        ),
    ),
    rename=(
        (r"^conv1_1\.", "reduce_short."),
        (r"^conv1_2\.", "reduce_long."),
        (r"^conv2_0\.", "conv_local."),
        (r"^conv2_1\.", "conv_pool1."),
        (r"^conv2_2\.", "conv_pool2."),
        (r"^conv2_3\.", "conv_w."),
        (r"^conv2_4\.", "conv_h."),
        (r"^conv2_5\.", "fuse_short."),
        (r"^conv2_6\.", "fuse_long."),
        (r"^conv3\.", "project."),
        (r"\.0\.", ".conv."),
        (r"\.1\.", ".bn."),
    ),
    build=_build,
)
