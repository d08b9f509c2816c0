"""RFB against the official ``models/RFB_Net_vgg.py`` (``BasicRFB``): three atrous branches, 1x1 fusion, scaled
shortcut, ReLU.

Stubbed: ``layers`` (the detection head's prior boxes, loss and NMS, unused by the block) and ``torchvision``
(imported for transforms and model zoo, unused by the block).
"""

from scripts.parity import Config, Recipe

STUBS = {
    "layers": "",
    "torchvision": "",
    "torchvision.transforms": "",
    "torchvision.models": "",
}

RECIPE = Recipe(
    module="rfbnet",
    repo="https://github.com/ruinmessi/RFBNet",
    file="models/RFB_Net_vgg.py",
    cls="BasicRFB",
    configs=(
        Config(
            "default",
            {"in_planes": 16, "out_planes": 16},
            {"in_channels": 16, "out_channels": 16},
            ((2, 16, 4, 5),),
        ),
        Config(
            "visual2-scale1-stride2",
            {"in_planes": 16, "out_planes": 8, "stride": 2, "scale": 1.0, "visual": 2},
            {"in_channels": 16, "out_channels": 8, "stride": 2, "scale": 1.0, "visual": 2},
            ((2, 16, 5, 6),),
        ),
    ),
    rename=((r"^branch(\d)\.", r"branches.\1."), (r"^ConvLinear\.", "conv_linear.")),
    stubs=STUBS,
)
