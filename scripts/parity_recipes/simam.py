"""SimAM against the official ``networks/attentions/simam_module.py`` (``simam_module``): parameter-free, so
the fixture holds inputs and outputs only; the default lambda and the larger one of the training scripts."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="simam",
    repo="https://github.com/ZjjConan/SimAM",
    file="networks/attentions/simam_module.py",
    cls="simam_module",
    configs=(
        Config("default", {"channels": 8}, {"channels": 8}, ((2, 8, 5, 7),)),
        Config(
            "lambda-0.1", {"channels": 6, "e_lambda": 0.1}, {"channels": 6, "e_lambda": 0.1}, ((3, 6, 6, 4),)
        ),
    ),
)
