"""PVT spatial-reduction attention against the official ``classification/pvt.py`` (``Attention``): the official
takes ``(N, HW, C)`` tokens and ``H, W``; ``call`` converts with ``cvattn.tokens``. Configurations with several
heads, one head without reduction and with an explicit ``qk_scale``, and maps whose size is not a multiple of the reduction ratio."""

from cvattn.tokens import from_tokens, to_tokens
from scripts.parity import Config, Recipe

TIMM_LAYERS = """
def DropPath(*args, **kwargs):
    raise NotImplementedError('stub')
def to_2tuple(x):
    return (x, x)
def trunc_normal_(tensor, *args, **kwargs):
    return tensor
"""

# timm is imported by the file for the whole network (patch embedding, drop path, model registry), not by
# Attention
STUBS = {
    "timm": "",
    "timm.models": "",
    "timm.models.layers": TIMM_LAYERS,
    "timm.models.registry": "def register_model(fn):\n    return fn\n",
    "timm.models.vision_transformer": "def _cfg(*args, **kwargs):\n    return {}\n",
}


def call_with_tokens(module, inputs):
    (x,) = inputs
    size = x.shape[-2:]
    return from_tokens(module(to_tokens(x), *size), size)


RECIPE = Recipe(
    module="pvt",
    repo="https://github.com/whai362/PVT",
    file="classification/pvt.py",
    cls="Attention",
    configs=(
        Config(
            "default",
            {"dim": 16, "num_heads": 2, "qkv_bias": True, "sr_ratio": 2},
            {"channels": 16, "num_heads": 2, "sr_ratio": 2, "qkv_bias": True},
            ((2, 16, 4, 6),),
        ),
        Config(
            "no-reduction-qk-scale",
            {"dim": 16, "num_heads": 1, "qkv_bias": False, "qk_scale": 0.3, "sr_ratio": 1},
            {"channels": 16, "num_heads": 1, "sr_ratio": 1, "qkv_bias": False, "qk_scale": 0.3},
            ((2, 16, 3, 5),),
        ),
        Config(
            "sr4-non-divisible",
            {"dim": 8, "num_heads": 4, "qkv_bias": True, "sr_ratio": 4},
            {"channels": 8, "num_heads": 4, "sr_ratio": 4, "qkv_bias": True},
            ((1, 8, 9, 11),),
        ),
    ),
    stubs=STUBS,
    call=call_with_tokens,
    note="timm (imported by the file for the PVT network, not used by Attention) is stubbed.",
)
