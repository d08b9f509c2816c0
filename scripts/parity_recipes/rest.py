"""ResT's EMSA against the official ``models/rest.py`` (``Attention``): the official takes ``(N, HW, C)`` tokens
and ``H, W``; ``call`` flattens our ``(N, C, H, W)`` input into tokens and folds the output back. Configurations
with and without the head-mixing transform, and with and without spatial reduction."""

from scripts.parity import Config, Recipe

from ._common import TIMM_LAYERS


def _call(module, inputs):
    (x,) = inputs
    n, c, h, w = x.shape
    y = module(x.flatten(2).transpose(1, 2), h, w)  # (N, HW, C)
    return y.transpose(1, 2).reshape(n, c, h, w)


RECIPE = Recipe(
    module="rest",
    repo="https://github.com/wofmanaf/ResT",
    file="models/rest.py",
    cls="Attention",
    configs=(
        Config(
            "default",
            {"dim": 16, "num_heads": 2, "qkv_bias": True, "sr_ratio": 2, "apply_transform": True},
            {"channels": 16, "num_heads": 2, "sr_ratio": 2},
            ((2, 16, 4, 6),),
        ),
        Config(
            "no-transform",
            {"dim": 16, "num_heads": 4, "qkv_bias": False, "sr_ratio": 1, "apply_transform": False},
            {"channels": 16, "num_heads": 4, "sr_ratio": 1, "qkv_bias": False, "apply_transform": False},
            ((2, 16, 3, 5),),
        ),
        Config(
            "four-heads-sr4",
            {"dim": 16, "num_heads": 4, "qkv_bias": True, "sr_ratio": 4, "apply_transform": True},
            {"channels": 16, "num_heads": 4, "sr_ratio": 4},
            ((1, 16, 8, 6),),
        ),
    ),
    stubs={
        "timm": "",
        "timm.models": "",
        "timm.models.layers": TIMM_LAYERS,
        "timm.models.registry": "def register_model(fn):\n    return fn\n",
    },
    call=_call,
    note="timm (imported by the file for the ResT network, not used by Attention) is stubbed.",
)
