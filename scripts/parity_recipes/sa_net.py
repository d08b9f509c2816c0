"""Shuffle attention against the official ``models/sa_resnet.py`` (``sa_layer``)."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="sa-net",
    repo="https://github.com/wofmanaf/SA-Net",
    file="models/sa_resnet.py",
    cls="sa_layer",
    configs=(
        Config("groups-2", {"channel": 16, "groups": 2}, {"channels": 16, "groups": 2}, ((2, 16, 5, 7),)),
        Config("groups-4", {"channel": 32, "groups": 4}, {"channels": 32, "groups": 4}, ((1, 32, 4, 4),)),
        Config("default-groups", {"channel": 128}, {"channels": 128}, ((1, 128, 2, 3),)),
    ),
)
