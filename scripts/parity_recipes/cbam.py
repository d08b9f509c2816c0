"""CBAM against the official ``MODELS/cbam.py`` (``CBAM``): channel gate, then spatial gate."""

from scripts.parity import Config, Recipe

from ._common import as_conv1x1

RECIPE = Recipe(
    module="cbam",
    repo="https://github.com/Jongchan/attention-module",
    file="MODELS/cbam.py",
    cls="CBAM",
    configs=(
        Config("default", {"gate_channels": 16}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config(
            "reduction-4",
            {"gate_channels": 16, "reduction_ratio": 4},
            {"channels": 16, "reduction": 4},
            ((3, 16, 4, 4),),
        ),
    ),
    rename=(
        (r"^ChannelGate\.mlp\.1\.", "channel_gate.fc1."),
        (r"^ChannelGate\.mlp\.3\.", "channel_gate.fc2."),
        (r"^SpatialGate\.spatial\.conv\.", "spatial_gate.conv."),
        (r"^SpatialGate\.spatial\.bn\.", "spatial_gate.bn."),
    ),
    convert=as_conv1x1,
)
