"""RCAN channel attention against the official ``RCAN_TrainCode/code/model/rcan.py`` (``CALayer``). The file
imports ``from model import common`` (a package of the training code); the patch imports the sibling
``common.py`` directly, which is unchanged."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="rcan",
    repo="https://github.com/yulunzhang/RCAN",
    file="RCAN_TrainCode/code/model/rcan.py",
    cls="CALayer",
    configs=(
        Config("default", {"channel": 32}, {"channels": 32}, ((2, 32, 5, 7),)),
        Config(
            "reduction-4", {"channel": 16, "reduction": 4}, {"channels": 16, "reduction": 4}, ((3, 16, 4, 4),)
        ),
    ),
    rename=((r"^conv_du\.0\.", "fc1."), (r"^conv_du\.2\.", "fc2.")),
    patches=(("from model import common", "import common"),),
)
