"""Coordinate attention against the official ``coordatt.py`` (``CoordAtt`` with ``oup == inp``)."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="coordinate-attention",
    repo="https://github.com/houqb/CoordAttention",
    file="coordatt.py",
    cls="CoordAtt",
    configs=(
        Config("default", {"inp": 16, "oup": 16}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config(
            "reduction-2",
            {"inp": 32, "oup": 32, "reduction": 2},
            {"channels": 32, "reduction": 2},
            ((2, 32, 4, 5),),
        ),
    ),
)
