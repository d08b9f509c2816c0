"""CrossFormer's short distance attention against the official ``CrossFormerBlock`` (``lsda_flag=0``) of
``models/crossformer.py``; see ``_crossformer.py`` for how the block is reduced to its attention branch."""

from scripts.parity import Recipe
from scripts.parity_recipes import _crossformer as cf

RECIPE = Recipe(
    module="crossformer-sda",
    repo=cf.REPO,
    file=cf.FILE,
    cls="CrossFormerBlock",
    configs=(
        cf.config("padded", False, 16, 2, 3, 1, True, (2, 16, 5, 7)),
        cf.config("exact-no-bias", False, 32, 4, 3, 1, False, (1, 32, 6, 9)),
    ),
    rename=cf.RENAME,
    drop=cf.DROP,
    patches=cf.PATCHES,
    stubs=cf.STUBS,
    build=cf.build,
    call=cf.call,
    deviation=cf.DEVIATION,
    deviation_zh=cf.DEVIATION_ZH,
    note=cf.NOTE,
)
