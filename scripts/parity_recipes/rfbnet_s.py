"""RFB-s against the official ``models/RFB_Net_vgg.py`` (``BasicRFB_a``): four 1x3/3x1 and atrous branches, 1x1
fusion, scaled shortcut, ReLU.

Only stride 1 is compared: the official block cannot run with a larger stride (its branches' output sizes differ;
see our Deviations), so that deviation has no official output to compare with. Stubbed: ``layers`` and
``torchvision``, imported by the file but unused by the block.
"""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="rfbnet-s",
    repo="https://github.com/ruinmessi/RFBNet",
    file="models/RFB_Net_vgg.py",
    cls="BasicRFB_a",
    configs=(
        Config(
            "default",
            {"in_planes": 16, "out_planes": 16},
            {"in_channels": 16, "out_channels": 16},
            ((2, 16, 4, 5),),
        ),
        Config(
            "scale1-out8",
            {"in_planes": 16, "out_planes": 8, "scale": 1.0},
            {"in_channels": 16, "out_channels": 8, "scale": 1.0},
            ((2, 16, 3, 5),),
        ),
    ),
    rename=((r"^branch(\d)\.", r"branches.\1."), (r"^ConvLinear\.", "conv_linear.")),
    stubs={"layers": "", "torchvision": "", "torchvision.transforms": "", "torchvision.models": ""},
    note="The official BasicRFB_a fails for stride > 1 (only branches 2, 3 and the shortcut are strided), so "
    "our strided branches 0 and 1 (Deviations) cannot be compared.",
)
