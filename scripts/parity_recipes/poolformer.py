"""PoolFormer's pooling mixer against the official ``models/poolformer.py`` (``Pooling``): no parameters, same
``(N, C, H, W)`` layout; the default window 3 and a window of 5, on non-square maps."""

from scripts.parity import Config, Recipe

_NOT_USED = "def {}(*args, **kwargs):\n    raise NotImplementedError('stub')\n"

# timm is imported by the file for the network (drop path, init, registry, config constants), not by Pooling;
# mmseg and mmdet are optional imports in try blocks
_STUBS = {
    "timm": "",
    "timm.data": "IMAGENET_DEFAULT_MEAN = IMAGENET_DEFAULT_STD = None\n",
    "timm.models": "",
    "timm.models.layers": "".join(_NOT_USED.format(n) for n in ("DropPath", "trunc_normal_")),
    "timm.models.layers.helpers": _NOT_USED.format("to_2tuple"),
    "timm.models.registry": "def register_model(fn):\n    return fn\n",
}

RECIPE = Recipe(
    module="poolformer",
    repo="https://github.com/sail-sg/poolformer",
    file="models/poolformer.py",
    cls="Pooling",
    configs=(
        Config("default", {"pool_size": 3}, {"channels": 8, "pool_size": 3}, ((2, 8, 6, 9),)),
        Config("pool-5", {"pool_size": 5}, {"channels": 4, "pool_size": 5}, ((2, 4, 11, 7),)),
    ),
    stubs=_STUBS,
    note="timm (imported by the file for the PoolFormer network, not used by Pooling) is stubbed.",
)
