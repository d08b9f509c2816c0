"""BAT against the official ``model_zoo/non_local.py`` (``BATBlock`` with its ``BATransform``). The official
transform accepts only square maps whose side is a multiple of ``s``, so every configuration is square and
divisible; the padding that lets ours take any size is checked by the module's own tests."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="bat",
    repo="https://github.com/BA-Transform/BAT-Image-Classification",
    file="model_zoo/non_local.py",
    cls="BATBlock",
    configs=(
        Config(
            "s4-k2",
            {"in_channels": 8, "r": 2, "s": 4, "k": 2, "dropout": 0.2},
            {"channels": 8, "r": 2, "s": 4, "k": 2, "dropout": 0.2},
            ((2, 8, 8, 8),),
        ),
        Config(
            "s3-k4-stride2",
            {"in_channels": 16, "r": 2, "s": 3, "k": 4, "dropout": 0.1},
            {"channels": 16, "s": 3, "k": 4, "dropout": 0.1},
            ((1, 16, 6, 6),),
        ),
        Config(
            "s7-k2",
            {"in_channels": 8, "r": 2, "s": 7, "k": 2, "dropout": 0.2},
            {"channels": 8, "k": 2},
            ((2, 8, 7, 7),),
        ),
    ),
    rename=((r"(^|\.)(conv[12])\.0\.", r"\1\2.conv."), (r"(^|\.)(conv[12])\.1\.", r"\1\2.bn.")),
    note="Train mode draws the same Dropout2d mask in both (same seed, same shape). Square maps only: the official "
    "block fails on non-square maps and on sides that are not a multiple of s (ours pads; that path is checked "
    "against a float64 reference in tests/modules/test_bat.py).",
)
