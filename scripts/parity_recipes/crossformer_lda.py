"""CrossFormer's long distance attention against the official ``CrossFormerBlock`` (``lsda_flag=1``) of
``models/crossformer.py``; see ``_crossformer.py`` for how the block is reduced to its attention branch."""

from scripts.parity import Recipe
from scripts.parity_recipes import _crossformer as cf

RECIPE = Recipe(
    module="crossformer-lda",
    repo=cf.REPO,
    file=cf.FILE,
    cls="CrossFormerBlock",
    configs=(
        cf.config("padded", True, 16, 2, 2, 2, True, (2, 16, 5, 7)),
        cf.config("exact-no-bias", True, 16, 2, 2, 3, False, (1, 16, 6, 12)),
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
