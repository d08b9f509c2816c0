"""SGE against the official ``classification/models/imagenet/resnet_sge.py`` (``SpatialGroupEnhance``)."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="sge",
    repo="https://github.com/implus/PytorchInsight",
    file="classification/models/imagenet/resnet_sge.py",
    cls="SpatialGroupEnhance",
    configs=(
        Config("groups-4", {"groups": 4}, {"channels": 16, "groups": 4}, ((2, 16, 5, 7),)),
        Config("groups-8", {"groups": 8}, {"channels": 32, "groups": 8}, ((2, 32, 4, 4),)),
    ),
    # The file is imported alone, not as part of its package.
    patches=(("from .common_head import *", "from common_head import *"),),
)
