"""NAFNet's block against the official ``basicsr/models/archs/NAFNet_arch.py`` (``NAFBlock``, with the official
``LayerNorm2d`` and its hand-written backward): the default expansions, and wider depth-wise and narrower
feed-forward stages, on non-square maps. ``beta`` and ``gamma`` are randomised by the recorder, so both stages
count."""

from scripts.parity import Config, Recipe

from ._nafnet import FILE, NOTE, PATCHES, REPO, STUBS

RECIPE = Recipe(
    module="nafnet",
    repo=REPO,
    file=FILE,
    cls="NAFBlock",
    configs=(
        Config("default", {"c": 16}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config(
            "dw-4-ffn-1",
            {"c": 8, "DW_Expand": 4, "FFN_Expand": 1},
            {"channels": 8, "dw_expand": 4, "ffn_expand": 1},
            ((1, 8, 6, 9),),
        ),
    ),
    rename=((r"^sca\.1\.", "sca.conv."),),
    patches=PATCHES,
    stubs=STUBS,
    note=NOTE,
)
