"""Restormer's MDTA against the official ``basicsr/models/archs/restormer_arch.py`` (``Attention``): one head at
the first level's width, two and four heads with the convolution biases, on non-square maps. The file needs
einops (not a cvattn dependency): record with ``PYTHONPATH`` pointing at an einops install."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="restormer-mdta",
    repo="https://github.com/swz30/Restormer",
    file="basicsr/models/archs/restormer_arch.py",
    cls="Attention",
    configs=(
        Config(
            "one-head",
            {"dim": 16, "num_heads": 1, "bias": False},
            {"channels": 16, "num_heads": 1, "bias": False},
            ((2, 16, 5, 7),),
        ),
        Config(
            "two-heads-bias",
            {"dim": 24, "num_heads": 2, "bias": True},
            {"channels": 24, "num_heads": 2, "bias": True},
            ((1, 24, 6, 9),),
        ),
        Config(
            "four-heads",
            {"dim": 32, "num_heads": 4, "bias": False},
            {"channels": 32, "num_heads": 4, "bias": False},
            ((3, 32, 4, 3),),
        ),
    ),
    note="einops is the real package; the file's pdb import is the standard library's.",
)
