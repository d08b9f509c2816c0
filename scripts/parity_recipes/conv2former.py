"""Conv2Former's convolutional modulation against the official ``models/conv2former.py`` (``SpatialAttention``):
same parameter names (the official channels-first ``LayerNorm`` holds ``weight`` and ``bias`` as ours), same
``(N, C, H, W)`` layout; the default kernel 11 and the 7 of Conv2Former-N, on non-square maps."""

from scripts.parity import Config, Recipe

_NOT_USED = "def {}(*args, **kwargs):\n    raise NotImplementedError('stub')\n"

# timm is imported by the file for the network (drop path, init, registry, default config), not by the mixer
_STUBS = {
    "timm": "",
    "timm.models": "",
    "timm.models.layers": "".join(_NOT_USED.format(n) for n in ("DropPath", "trunc_normal_")),
    "timm.models.registry": "def register_model(fn):\n    return fn\n",
    "timm.models.vision_transformer": "def _cfg(*args, **kwargs):\n    return {}\n",
}

RECIPE = Recipe(
    module="conv2former",
    repo="https://github.com/HVision-NKU/Conv2Former",
    file="models/conv2former.py",
    cls="SpatialAttention",
    configs=(
        Config("default", {"dim": 8, "kernel_size": 11}, {"channels": 8, "kernel_size": 11}, ((2, 8, 7, 9),)),
        Config("k7", {"dim": 6, "kernel_size": 7}, {"channels": 6, "kernel_size": 7}, ((2, 6, 10, 6),)),
    ),
    stubs=_STUBS,
    note="timm (imported by the file for the Conv2Former network, not used by SpatialAttention) is stubbed.",
)
