"""AFF against the official PyTorch port ``aff_pytorch/aff_net/fusion.py`` (``AFF``): MS-CAM of ``x + y``,
``2 * (x * M + y * (1 - M))``."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="aff",
    repo="https://github.com/YimianDai/open-aff",
    file="aff_pytorch/aff_net/fusion.py",
    cls="AFF",
    configs=(
        Config("default", {"channels": 16}, {"channels": 16}, ((2, 16, 3, 5), (2, 16, 3, 5))),
        Config(
            "reduction-2",
            {"channels": 8, "r": 2},
            {"channels": 8, "reduction": 2},
            ((2, 8, 4, 8), (2, 8, 4, 8)),
        ),
    ),
    # the official global branch starts with AdaptiveAvgPool2d (index 0); ours pools before the Sequential
    rename=(
        (r"^global_att\.1\.", "global_att.0."),
        (r"^global_att\.2\.", "global_att.1."),
        (r"^global_att\.4\.", "global_att.3."),
        (r"^global_att\.5\.", "global_att.4."),
        (r"^", "mscam."),
    ),
)
