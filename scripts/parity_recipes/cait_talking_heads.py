"""CaiT's talking-heads attention against the official ``cait_models.py`` (``Attention_talking_head``): the
official takes ``(N, HW, C)`` tokens; ``call`` converts our map with cvattn.tokens and folds the output back."""

from cvattn.tokens import from_tokens, to_tokens
from scripts.parity import Config, Recipe
from scripts.parity_recipes._cait_stubs import STUBS


def _call(module, inputs):
    (x,) = inputs
    return from_tokens(module(to_tokens(x)), x.shape[-2:])


RECIPE = Recipe(
    module="cait-talking-heads",
    repo="https://github.com/facebookresearch/deit",
    file="cait_models.py",
    cls="Attention_talking_head",
    configs=(
        Config(
            "default",
            {"dim": 16, "num_heads": 4, "qkv_bias": True},
            {"channels": 16, "num_heads": 4, "qkv_bias": True},
            ((2, 16, 5, 7),),
        ),
        Config(
            "no-bias-three-heads",
            {"dim": 24, "num_heads": 3, "qkv_bias": False},
            {"channels": 24, "num_heads": 3, "qkv_bias": False},
            ((1, 24, 6, 9),),
        ),
    ),
    stubs=STUBS,
    call=_call,
    note="timm (imported by the file for the CaiT network, not used by Attention_talking_head) is stubbed.",
)
