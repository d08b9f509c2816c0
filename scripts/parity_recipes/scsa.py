"""SCSA against the official ``mmpretrain/models/attentions/SCSA.py`` (``SCSA``). Parameter names agree. The
class derives from mmengine's ``BaseModule``, stubbed as a plain ``nn.Module``; its forward needs ``einops``
(recording needs it installed; checking the fixture does not)."""

from scripts.parity import Config, Recipe

_MMENGINE_MODEL = """
from torch import nn
class BaseModule(nn.Module):
    def __init__(self, init_cfg=None):
        super().__init__()
"""

RECIPE = Recipe(
    module="scsa",
    repo="https://github.com/HZAI-ZJNU/SCSA",
    file="mmpretrain/models/attentions/SCSA.py",
    cls="SCSA",
    configs=(
        Config("default", {"dim": 16, "head_num": 1}, {"channels": 16}, ((1, 16, 9, 12),)),
        Config(
            "two-heads-window3-maxpool-bias",
            {"dim": 8, "head_num": 2, "window_size": 3, "qkv_bias": True, "down_sample_mode": "max_pool"},
            {
                "channels": 8,
                "num_heads": 2,
                "window_size": 3,
                "qkv_bias": True,
                "down_sample_mode": "max_pool",
            },
            ((2, 8, 7, 8),),
        ),
        Config(
            "global-softmax-gates",
            {
                "dim": 12,
                "head_num": 3,
                "window_size": -1,
                "gate_layer": "softmax",
                "group_kernel_sizes": [1, 3, 5, 7],
            },
            {
                "channels": 12,
                "num_heads": 3,
                "window_size": -1,
                "gate_layer": "softmax",
                "group_kernel_sizes": (1, 3, 5, 7),
            },
            ((2, 12, 5, 6),),
        ),
    ),
    stubs={"mmengine": "", "mmengine.model": _MMENGINE_MODEL},
    note="mmengine's BaseModule is stubbed as nn.Module; einops (used by the forward) was installed to record.",
)
