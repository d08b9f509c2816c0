"""XCiT's XCA against the official ``xcit.py`` (``XCA``): the official takes ``(N, HW, C)`` tokens; ``call``
flattens our ``(N, C, H, W)`` input into tokens with cvattn.tokens and folds the output back. Configurations
with and without the qkv bias, on non-square maps."""

from cvattn.tokens import from_tokens, to_tokens
from scripts.parity import Config, Recipe

from ._common import TIMM_LAYERS

_TIMM_VIT = """
def _cfg(*args, **kwargs):
    return {}
class Mlp:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError('stub')
"""


def _call(module, inputs):
    (x,) = inputs
    return from_tokens(module(to_tokens(x)), x.shape[-2:])


RECIPE = Recipe(
    module="xcit",
    repo="https://github.com/facebookresearch/xcit",
    file="xcit.py",
    cls="XCA",
    configs=(
        Config(
            "default",
            {"dim": 16, "num_heads": 4, "qkv_bias": True},
            {"channels": 16, "num_heads": 4, "qkv_bias": True},
            ((2, 16, 5, 7),),
        ),
        Config(
            "no-bias-two-heads",
            {"dim": 24, "num_heads": 2, "qkv_bias": False},
            {"channels": 24, "num_heads": 2, "qkv_bias": False},
            ((1, 24, 6, 9),),
        ),
    ),
    stubs={
        "timm": "",
        "timm.models": "",
        "timm.models.layers": TIMM_LAYERS,
        "timm.models.vision_transformer": _TIMM_VIT,
        "timm.models.registry": "def register_model(fn):\n    return fn\n",
    },
    call=_call,
    note="timm (imported by the file for the XCiT network, not used by XCA) is stubbed.",
)
