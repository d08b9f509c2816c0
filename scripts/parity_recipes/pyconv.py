"""PyConv against the official ``models/pyconvresnet.py``: its ``get_pyconv`` factory builds ``PyConv4``,
``PyConv3``, ``PyConv2`` or a plain 3x3 conv by the number of levels, as PyConvResNet does."""

from scripts.parity import Config, Recipe


def _config(name, levels, cin, cout, shape, stride=1):
    kernels, groups = {
        4: ([3, 5, 7, 9], [1, 4, 8, 16]),
        3: ([3, 5, 7], [1, 4, 8]),
        2: ([3, 5], [1, 4]),
        1: ([3], [1]),
    }[levels]
    official = {
        "inplans": cin,
        "planes": cout,
        "pyconv_kernels": kernels,
        "stride": stride,
        "pyconv_groups": groups,
    }
    return Config(
        name,
        official,
        {"in_channels": cin, "out_channels": cout, "levels": levels, "stride": stride},
        (shape,),
    )


RECIPE = Recipe(
    module="pyconv",
    repo="https://github.com/iduta/pyconv",
    file="models/pyconvresnet.py",
    cls="get_pyconv",
    configs=(
        _config("pyconv4", 4, 16, 64, (2, 16, 5, 7)),
        _config("pyconv3", 3, 8, 32, (2, 8, 7, 6)),
        _config("pyconv2-stride-2", 2, 8, 8, (2, 8, 6, 7), stride=2),
        _config("pyconv1", 1, 8, 8, (1, 8, 5, 7)),
    ),
    rename=(
        (r"^conv2_(\d)\.", lambda m: f"levels.{int(m.group(1)) - 1}."),
        (r"^weight$", "levels.0.weight"),  # one level: get_pyconv returns a bare nn.Conv2d
    ),
)
