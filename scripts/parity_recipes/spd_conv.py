"""SPD-Conv against the official ``ResNet50-SPD/models/resnet50_spd.py`` (``Focus``: the space-to-depth
concatenation ``x[::2, ::2], x[1::2, ::2], x[::2, 1::2], x[1::2, 1::2]`` followed by the stride-1 ``Conv``
(conv + BN + SiLU) on the ``4 C`` channels), i.e. the paper's SPD layer and non-strided conv."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="spd-conv",
    repo="https://github.com/LabSAINT/SPD-Conv",
    file="ResNet50-SPD/models/resnet50_spd.py",
    cls="Focus",
    configs=(
        Config(
            "default",
            {"c1": 8, "c2": 16, "k": 3},
            {"in_channels": 8, "out_channels": 16, "kernel_size": 3},
            ((2, 8, 6, 10),),
        ),
        Config(
            "k1-wide",
            {"c1": 4, "c2": 24, "k": 1},
            {"in_channels": 4, "out_channels": 24, "kernel_size": 1},
            ((3, 4, 8, 4),),
        ),
    ),
)
