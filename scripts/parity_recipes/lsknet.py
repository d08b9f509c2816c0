"""LSK module against the official ``mmrotate/models/backbones/lsknet.py`` (``LSKblock``). Parameter names
agree. The file imports mmcv, timm and its package's backbone registry for the rest of LSKNet; they are
stubbed, and the relative registry import is patched to a no-op decorator."""

from scripts.parity import Config, Recipe

from ._common import TIMM_LAYERS

_WEIGHT_INIT = """
def constant_init(*args, **kwargs):
    pass
def normal_init(*args, **kwargs):
    pass
def trunc_normal_init(*args, **kwargs):
    pass
"""

_RUNNER = """
from torch import nn
class BaseModule(nn.Module):
    def __init__(self, init_cfg=None):
        super().__init__()
"""

_REGISTRY = """class _Registry:
    def register_module(self):
        return lambda cls: cls
ROTATED_BACKBONES = _Registry()"""

RECIPE = Recipe(
    module="lsknet",
    repo="https://github.com/zcablii/LSKNet",
    file="mmrotate/models/backbones/lsknet.py",
    cls="LSKblock",
    configs=(
        Config("default", {"dim": 16}, {"channels": 16}, ((2, 16, 6, 9),)),
        Config("odd-channels", {"dim": 9}, {"channels": 9}, ((1, 9, 11, 7),)),
    ),
    patches=(("from ..builder import ROTATED_BACKBONES", _REGISTRY),),
    stubs={
        "mmcv": "",
        "mmcv.cnn": "def build_norm_layer(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
        "mmcv.cnn.utils": "",
        "mmcv.cnn.utils.weight_init": _WEIGHT_INIT,
        "mmcv.runner": _RUNNER,
        "timm": "",
        "timm.models": "",
        "timm.models.layers": TIMM_LAYERS,
    },
    note="mmcv, timm and the mmrotate backbone registry (used by the rest of LSKNet, not by LSKblock) are stubbed.",
)
