"""VOLO's outlook attention against the official ``models/volo.py`` (``OutlookAttention``): the official takes
``(N, H, W, C)`` tokens; ``call`` permutes our ``(N, C, H, W)`` input with cvattn.tokens and back. Configurations
with stride 1 and with the models' stride 2 on sizes that do not divide it (ceil-mode pooling)."""

from cvattn.tokens import from_channels_last, to_channels_last
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


def _call(module, inputs):
    (x,) = inputs
    return from_channels_last(module(to_channels_last(x)))


RECIPE = Recipe(
    module="volo",
    repo="https://github.com/sail-sg/volo",
    file="models/volo.py",
    cls="OutlookAttention",
    configs=(
        Config(
            "stride-1",
            {"dim": 8, "num_heads": 2},
            {"channels": 8, "num_heads": 2, "stride": 1},
            ((2, 8, 5, 6),),
        ),
        Config(
            "stride-2-odd",
            {"dim": 8, "num_heads": 4, "stride": 2, "qkv_bias": True},
            {"channels": 8, "num_heads": 4, "stride": 2, "qkv_bias": True},
            ((2, 8, 5, 7),),
        ),
        Config(
            "k5-stride-2",
            {"dim": 4, "num_heads": 1, "kernel_size": 5, "padding": 2, "stride": 2},
            {"channels": 4, "num_heads": 1, "kernel_size": 5, "padding": 2, "stride": 2},
            ((2, 4, 8, 9),),
        ),
    ),
    stubs={
        "timm": "",
        "timm.data": "IMAGENET_DEFAULT_MEAN = (0.485, 0.456, 0.406)\nIMAGENET_DEFAULT_STD = (0.229, 0.224, 0.225)\n",
        "timm.models": "",
        "timm.models.layers": _TIMM_LAYERS,
        "timm.models.registry": "def register_model(fn):\n    return fn\n",
    },
    call=_call,
    note="timm (imported by the file for the VOLO network, not used by OutlookAttention) is stubbed.",
)
