"""CBAM's spatial attention against the official ``MODELS/cbam.py`` (``SpatialGate``, 7x7 conv + BN)."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="cbam-spatial",
    repo="https://github.com/Jongchan/attention-module",
    file="MODELS/cbam.py",
    cls="SpatialGate",
    configs=(Config("default", {}, {"channels": 4}, ((2, 4, 5, 7),)),),
    rename=((r"^spatial\.conv\.", "conv."), (r"^spatial\.bn\.", "bn.")),
)
