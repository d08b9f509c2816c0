"""ANN's APNB against the official ``models/seg/utils/apnb.py`` (``APNB``, one stage, BatchNorm): output, input
gradient and running statistics of the fusion BatchNorm are compared; the shared query/key embedding's
statistics are not (see ``note``)."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="ann-apnb",
    repo="https://github.com/MendelXu/ANN",
    file="models/seg/utils/apnb.py",
    cls="APNB",
    configs=(
        Config(
            "default",
            {
                "in_channels": 16,
                "out_channels": 16,
                "key_channels": 8,
                "value_channels": 8,
                "dropout": 0.05,
                "norm_type": "batchnorm",
            },
            {"channels": 16},
            ((2, 16, 5, 7),),
        ),
        Config(
            "narrow-key",
            {
                "in_channels": 12,
                "out_channels": 12,
                "key_channels": 4,
                "value_channels": 6,
                "dropout": 0.05,
                "norm_type": "batchnorm",
            },
            {"channels": 12, "key_channels": 4, "value_channels": 6},
            ((2, 12, 6, 6),),
        ),
    ),
    rename=(
        (r"^stages\.0\.f_key\.0\.", "f_key.conv."),
        (r"^stages\.0\.f_key\.1\.0\.", "f_key.bn."),
        (r"^stages\.0\.", ""),
        (r"^conv_bn_dropout\.0\.", "fuse.0.conv."),
        (r"^conv_bn_dropout\.1\.0\.", "fuse.0.bn."),
    ),
    drop=(r"^stages\.0\.f_query\.",),
    note=(
        "The official f_query is the very module f_key (its state-dict entries are dropped as duplicates) and "
        "runs twice per forward pass, so its BatchNorm's running statistics are updated twice per training "
        "step (documented); running statistics are therefore not compared (compare_buffers=False)."
    ),
    compare_buffers=False,
)
