"""CBAM's channel attention against the official ``MODELS/cbam.py`` (``ChannelGate``)."""

from scripts.parity import Config, Recipe

from ._common import as_conv1x1

RECIPE = Recipe(
    module="cbam-channel",
    repo="https://github.com/Jongchan/attention-module",
    file="MODELS/cbam.py",
    cls="ChannelGate",
    configs=(
        Config("default", {"gate_channels": 16}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config(
            "reduction-8",
            {"gate_channels": 24, "reduction_ratio": 8},
            {"channels": 24, "reduction": 8},
            ((2, 24, 3, 3),),
        ),
    ),
    rename=((r"^mlp\.1\.", "fc1."), (r"^mlp\.3\.", "fc2.")),
    convert=as_conv1x1,
)
