"""VAN's large kernel attention against the official ``models/van.py`` (``LKA``): same parameter names, same
``(N, C, H, W)`` layout; one square and one non-square configuration."""

from scripts.parity import Config, Recipe

_TIMM_LAYERS = """
class DropPath:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError('stub')
def to_2tuple(x):
    return (x, x)
def trunc_normal_(tensor, *args, **kwargs):
    return tensor
"""

STUBS = {
    "timm": "",
    "timm.models": "",
    "timm.models.layers": _TIMM_LAYERS,
    "timm.models.registry": "def register_model(fn):\n    return fn\n",
    "timm.models.vision_transformer": "def _cfg(*args, **kwargs):\n    return {}\n",
}
"""timm, imported by VAN's ``models/van.py`` for the network (not for LKA or Attention); LSKA reuses it."""

RECIPE = Recipe(
    module="van",
    repo="https://github.com/Visual-Attention-Network/VAN-Classification",
    file="models/van.py",
    cls="LKA",
    configs=(
        Config("default", {"dim": 8}, {"channels": 8}, ((2, 8, 6, 6),)),
        Config("non-square", {"dim": 6}, {"channels": 6}, ((2, 6, 5, 9),)),
    ),
    stubs=STUBS,
    note="timm (imported by the file for the VAN network, not used by LKA) is stubbed.",
)
