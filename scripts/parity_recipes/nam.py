"""NAM against the official ``MODELS/attention.py`` (``Channel_Att``, the only part the official ``Att`` wrapper
uses): batch norm, weights from the normalised |BN scales|, sigmoid gate; eval and train mode."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="nam",
    repo="https://github.com/Christian-lyc/NAM",
    file="MODELS/attention.py",
    cls="Channel_Att",
    configs=(
        Config("default", {"channels": 16}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config("square", {"channels": 8}, {"channels": 8}, ((3, 8, 6, 6),)),
    ),
    rename=((r"^bn2\.", "bn."),),
)
