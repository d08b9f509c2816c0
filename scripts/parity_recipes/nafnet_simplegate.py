"""NAFNet's SimpleGate against the official ``basicsr/models/archs/NAFNet_arch.py`` (``SimpleGate``, no
parameters), on non-square maps."""

from scripts.parity import Config, Recipe

from ._nafnet import FILE, NOTE, PATCHES, REPO, STUBS

RECIPE = Recipe(
    module="nafnet-simplegate",
    repo=REPO,
    file=FILE,
    cls="SimpleGate",
    configs=(
        Config("default", {}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config("any-even-width", {}, {"channels": None}, ((1, 6, 9, 4),)),
    ),
    patches=PATCHES,
    stubs=STUBS,
    note=NOTE,
)
