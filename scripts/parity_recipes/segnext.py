"""SegNeXt's MSCA against the official ``mmseg/models/backbones/mscan.py`` (``AttentionModule``): same parameter
names, same ``(N, C, H, W)`` layout; one square and one non-square configuration."""

from scripts.parity import Config, Recipe

_MMCV_RUNNER = """
from torch import nn
class BaseModule(nn.Module):
    def __init__(self, init_cfg=None):
        super().__init__()
def _load_checkpoint(*args, **kwargs):
    raise NotImplementedError('stub')
"""

_MMSEG_BUILDER = """
class _Registry:
    def register_module(self, *args, **kwargs):
        return lambda cls: cls
BACKBONES = _Registry()
"""

_NOT_USED = "def {}(*args, **kwargs):\n    raise NotImplementedError('stub')\n"

# mmcv and mmseg are imported by the file for the MSCAN backbone (norm builder, drop path, weight init,
# registry); AttentionModule only needs BaseModule, an nn.Module with an init_cfg argument
STUBS = {
    "mmcv": "",
    "mmcv.cnn": _NOT_USED.format("build_norm_layer"),
    "mmcv.cnn.bricks": _NOT_USED.format("DropPath"),
    "mmcv.cnn.utils": "",
    "mmcv.cnn.utils.weight_init": "".join(
        _NOT_USED.format(n) for n in ("constant_init", "normal_init", "trunc_normal_init")
    ),
    "mmcv.runner": _MMCV_RUNNER,
    "mmseg": "",
    "mmseg.models": "",
    "mmseg.models.builder": _MMSEG_BUILDER,
}

RECIPE = Recipe(
    module="segnext",
    repo="https://github.com/Visual-Attention-Network/SegNeXt",
    file="mmseg/models/backbones/mscan.py",
    cls="AttentionModule",
    configs=(
        Config("default", {"dim": 8}, {"channels": 8}, ((2, 8, 6, 6),)),
        Config("non-square", {"dim": 5}, {"channels": 5}, ((2, 5, 7, 12),)),
    ),
    stubs=STUBS,
    note="mmcv and mmseg (imported by the file for the MSCAN backbone) are stubbed; BaseModule as an nn.Module.",
)
