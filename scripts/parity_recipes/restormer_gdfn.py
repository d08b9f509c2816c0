"""Restormer's GDFN against the official ``basicsr/models/archs/restormer_arch.py`` (``FeedForward``): the
paper's expansion 2.66 (a hidden width that is not a multiple of the input width) and 4 with biases, on
non-square maps. The file needs einops (not a cvattn dependency): record with ``PYTHONPATH`` pointing at an
einops install."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="restormer-gdfn",
    repo="https://github.com/swz30/Restormer",
    file="basicsr/models/archs/restormer_arch.py",
    cls="FeedForward",
    configs=(
        Config(
            "expansion-2.66",
            {"dim": 16, "ffn_expansion_factor": 2.66, "bias": False},
            {"channels": 16, "expansion_factor": 2.66, "bias": False},
            ((2, 16, 5, 7),),
        ),
        Config(
            "expansion-4-bias",
            {"dim": 12, "ffn_expansion_factor": 4.0, "bias": True},
            {"channels": 12, "expansion_factor": 4.0, "bias": True},
            ((1, 12, 6, 9),),
        ),
    ),
    note="einops is the real package; the file's pdb import is the standard library's.",
)
