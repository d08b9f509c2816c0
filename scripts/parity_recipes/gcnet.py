"""GC block against the official ``mmdet/ops/gcb/context_block.py`` (``ContextBlock``, ``pooling_type='att'``,
``fusion_types=('channel_add',)``, the defaults): softmax attention pooling, 1x1 conv-LN-ReLU-1x1 conv
transform, added to every position.

The file imports ``constant_init`` and ``kaiming_init`` from ``mmcv.cnn`` for its initialisation only (the
weights are then randomised); a stub provides them.
"""

from scripts.parity import Config, Recipe

_MMCV_CNN = """
from torch import nn


def constant_init(module, val, bias=0):
    nn.init.constant_(module.weight, val)
    if getattr(module, "bias", None) is not None:
        nn.init.constant_(module.bias, bias)


def kaiming_init(module, a=0, mode="fan_out", nonlinearity="relu", bias=0, distribution="normal"):
    nn.init.kaiming_normal_(module.weight, a=a, mode=mode, nonlinearity=nonlinearity)
    if getattr(module, "bias", None) is not None:
        nn.init.constant_(module.bias, bias)
"""

RECIPE = Recipe(
    module="gcnet",
    repo="https://github.com/xvjiarui/GCNet",
    file="mmdet/ops/gcb/context_block.py",
    cls="ContextBlock",
    configs=(
        Config("default", {"inplanes": 32, "ratio": 1 / 16}, {"channels": 32}, ((2, 32, 4, 5),)),
        Config(
            "ratio-4", {"inplanes": 16, "ratio": 1 / 4}, {"channels": 16, "ratio": 1 / 4}, ((2, 16, 6, 6),)
        ),
    ),
    rename=((r"^channel_add_conv\.", "transform."),),
    stubs={"mmcv": "", "mmcv.cnn": _MMCV_CNN},
)
