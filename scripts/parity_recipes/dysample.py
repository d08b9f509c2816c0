"""DySample against the official ``dysample.py`` (``DySample``), which runs on CPU as published: both styles
("lp", the default, and "pl", DySample-S), with and without the dynamic scope (DySample+), scale 2 and 3."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="dysample",
    repo="https://github.com/tiny-smart/dysample",
    file="dysample.py",
    cls="DySample",
    configs=(
        Config("default-lp", {"in_channels": 16}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config(
            "lp-dyscope-x3-groups2",
            {"in_channels": 12, "scale": 3, "groups": 2, "dyscope": True},
            {"channels": 12, "scale_factor": 3, "groups": 2, "dyscope": True},
            ((2, 12, 4, 5),),
        ),
        Config(
            "pl",
            {"in_channels": 16, "style": "pl"},
            {"channels": 16, "style": "pl"},
            ((2, 16, 6, 5),),
        ),
        Config(
            "pl-dyscope",
            {"in_channels": 32, "style": "pl", "dyscope": True},
            {"channels": 32, "style": "pl", "dyscope": True},
            ((1, 32, 3, 4),),
        ),
    ),
)
