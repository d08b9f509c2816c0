"""SlimConv against the official ``SC-ResNet.py`` (``slim_conv_3x3``): reweighting, the two folds, both paths.

Patched: two lines of the constructor are indented with a tab among space-indented lines (a ``TabError`` in
Python 3); they are re-indented with spaces. ``torchvision.models.utils`` (only ``load_state_dict_from_url``, for
pretrained ResNets) is stubbed.
"""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="slimconv",
    repo="https://github.com/JiaxiongQ/SlimConv",
    file="SC-ResNet.py",
    cls="slim_conv_3x3",
    configs=(
        Config(
            "default",
            {"in_planes": 32, "stride": 1, "groups": 1, "dilation": 1},
            {"in_channels": 32},
            ((2, 32, 3, 4),),
        ),
        Config(
            "stride2-dilation2-groups4",
            {"in_planes": 64, "stride": 2, "groups": 4, "dilation": 2},
            {"in_channels": 64, "stride": 2, "groups": 4, "dilation": 2},
            ((2, 64, 2, 3),),
        ),
    ),
    rename=((r"^conv2_1\.", "conv_top."), (r"^conv2_2\.", "conv_bot.")),
    patches=(("\treduce_1 = 2\n\treduce_2 = 4", "        reduce_1 = 2\n        reduce_2 = 4"),),
    stubs={
        "torchvision": "",
        "torchvision.models": "",
        "torchvision.models.utils": "def load_state_dict_from_url(*args, **kwargs):\n    raise NotImplementedError\n",
    },
)
