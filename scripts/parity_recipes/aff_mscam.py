"""MS-CAM against the official PyTorch port ``aff_pytorch/aff_net/fusion.py`` (``MS_CAM``): local and global
point-wise bottlenecks, sigmoid of their sum, times the input."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="aff-mscam",
    repo="https://github.com/YimianDai/open-aff",
    file="aff_pytorch/aff_net/fusion.py",
    cls="MS_CAM",
    configs=(
        Config("default", {"channels": 16}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config("reduction-2", {"channels": 24, "r": 2}, {"channels": 24, "reduction": 2}, ((2, 24, 3, 4),)),
    ),
    # the official global branch starts with AdaptiveAvgPool2d (index 0); ours pools before the Sequential
    rename=(
        (r"^global_att\.1\.", "global_att.0."),
        (r"^global_att\.2\.", "global_att.1."),
        (r"^global_att\.4\.", "global_att.3."),
        (r"^global_att\.5\.", "global_att.4."),
    ),
)
