"""Sequential polarized self-attention against the official ``semantic-segmentation/network/PSA.py``
(``PSA_s``), built with ``planes == inplanes``; its bottleneck ratio is the constant 4, our default
``reduction``."""

from scripts.parity import Config, Recipe

from .polarized_self_attention import RENAME

RECIPE = Recipe(
    module="polarized-self-attention-sequential",
    repo="https://github.com/DeLightCMU/PSA",
    file="semantic-segmentation/network/PSA.py",
    cls="PSA_s",
    configs=(
        Config("default", {"inplanes": 16, "planes": 16}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config("wider", {"inplanes": 24, "planes": 24}, {"channels": 24}, ((1, 24, 8, 5),)),
    ),
    rename=RENAME,
)
