"""ANN's AFNB against the official ``models/seg/utils/afnb.py`` (``AFNB``, one stage, BatchNorm); the official
``forward(low_feats, high_feats)`` is called with our ``(x_high, x_low)`` swapped."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="ann-afnb",
    repo="https://github.com/MendelXu/ANN",
    file="models/seg/utils/afnb.py",
    cls="AFNB",
    configs=(
        Config(
            "default",
            {
                "low_in_channels": 8,
                "high_in_channels": 16,
                "out_channels": 16,
                "key_channels": 2,
                "value_channels": 2,
                "dropout": 0.05,
                "norm_type": "batchnorm",
            },
            {"channels": 16, "low_channels": 8},
            ((2, 16, 5, 7), (2, 8, 5, 7)),
        ),
        Config(
            "low-resolution-low",
            {
                "low_in_channels": 12,
                "high_in_channels": 8,
                "out_channels": 10,
                "key_channels": 4,
                "value_channels": 6,
                "dropout": 0.05,
                "norm_type": "batchnorm",
            },
            {"channels": 8, "low_channels": 12, "out_channels": 10, "key_channels": 4, "value_channels": 6},
            ((2, 8, 5, 6), (2, 12, 3, 5)),
        ),
    ),
    rename=(
        (r"^stages\.0\.(f_key|f_query)\.0\.", r"\1.conv."),
        (r"^stages\.0\.(f_key|f_query)\.1\.0\.", r"\1.bn."),
        (r"^stages\.0\.", ""),
        (r"^conv_bn_dropout\.0\.", "fuse.0.conv."),
        (r"^conv_bn_dropout\.1\.", "fuse.0.bn."),
    ),
    call=lambda module, inputs: module(inputs[1], inputs[0]),
)
