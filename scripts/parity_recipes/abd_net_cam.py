"""ABD-Net's channel attention against the official ``torchreid/components/attention.py`` (``CAM_Module``)."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="abd-net-cam",
    repo="https://github.com/VITA-Group/ABD-Net",
    file="torchreid/components/attention.py",
    cls="CAM_Module",
    configs=(
        Config("default", {"in_dim": 16}, {"channels": 16}, ((2, 16, 6, 4),)),
        Config("odd", {"in_dim": 24}, {"channels": 24}, ((1, 24, 5, 3),)),
    ),
)
