"""ODConv against the official ``modules/odconv.py`` (``ODConv2d`` with its ``Attention``).

The default 4-kernel 3x3 convolution; one kernel (ODConv 1x); groups with stride and dilation; a 1x1 kernel
(no spatial attention); a depthwise convolution (no filter attention); and a 1x1 convolution with one kernel
(the official static-kernel path).
"""

from scripts.parity import Config, Recipe


def _config(name, shape, **kwargs):
    kwargs.setdefault("padding", 0)  # the registry default is 1
    official = {"in_planes": kwargs["in_channels"], "out_planes": kwargs["out_channels"]}
    official.update({k: v for k, v in kwargs.items() if k not in ("in_channels", "out_channels")})
    if "reduction" in official:
        official["reduction"] = 1 / official["reduction"]
    if "num_kernels" in official:
        official["kernel_num"] = official.pop("num_kernels")
    return Config(name, official, kwargs, (shape,))


RECIPE = Recipe(
    module="odconv",
    repo="https://github.com/OSVAI/ODConv",
    file="modules/odconv.py",
    cls="ODConv2d",
    configs=(
        _config("default", (2, 8, 4, 5), in_channels=8, out_channels=8, kernel_size=3, padding=1),
        _config(
            "one-kernel",
            (2, 16, 6, 5),
            in_channels=16,
            out_channels=24,
            kernel_size=3,
            padding=1,
            num_kernels=1,
        ),
        _config(
            "groups-stride-dilation",
            (2, 32, 7, 6),
            in_channels=32,
            out_channels=16,
            kernel_size=3,
            stride=2,
            padding=2,
            dilation=2,
            groups=4,
        ),
        _config("pointwise", (2, 16, 4, 6), in_channels=16, out_channels=8, kernel_size=1),
        _config(
            "depthwise-k5",
            (2, 24, 7, 6),
            in_channels=24,
            out_channels=24,
            kernel_size=5,
            padding=2,
            groups=24,
            num_kernels=2,
        ),
        _config(
            "pointwise-one-kernel",
            (2, 16, 4, 5),
            in_channels=16,
            out_channels=8,
            kernel_size=1,
            num_kernels=1,
        ),
        _config(
            "wide-descriptor",
            (2, 64, 3, 4),
            in_channels=64,
            out_channels=8,
            kernel_size=1,
            num_kernels=2,
            reduction=2,
        ),
    ),
    rename=(
        (r"^attention\.channel_fc\.", "attention.channel."),
        (r"^attention\.filter_fc\.", "attention.filter."),
        (r"^attention\.spatial_fc\.", "attention.spatial."),
        (r"^attention\.kernel_fc\.", "attention.kernel."),
    ),
)
