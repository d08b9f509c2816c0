"""DaViT's channel group attention against the official ``timm/models/davit.py`` (``ChannelAttention``): the
official takes ``(N, HW, C)`` tokens; ``call`` converts our map with cvattn.tokens and folds the output back.

The file is a module of the authors' copy of timm and imports its siblings relatively; the patches make
those imports absolute so that stubs stand in for them (none is used by ``ChannelAttention``)."""

from cvattn.tokens import from_tokens, to_tokens
from scripts.parity import Config, Recipe

_LAYERS = """
def DropPath(*args, **kwargs):
    raise NotImplementedError('stub')
def to_2tuple(x):
    return (x, x)
def trunc_normal_(tensor, *args, **kwargs):
    return tensor
"""


def _call(module, inputs):
    (x,) = inputs
    return from_tokens(module(to_tokens(x)), x.shape[-2:])


RECIPE = Recipe(
    module="davit",
    repo="https://github.com/dingmyu/davit",
    file="timm/models/davit.py",
    cls="ChannelAttention",
    configs=(
        Config(
            "default",
            {"dim": 24, "num_heads": 3, "qkv_bias": True},
            {"channels": 24, "num_heads": 3, "qkv_bias": True},
            ((2, 24, 5, 7),),
        ),
        Config(
            "no-bias-one-group",
            {"dim": 16, "num_heads": 1, "qkv_bias": False},
            {"channels": 16, "num_heads": 1, "qkv_bias": False},
            ((1, 16, 6, 9),),
        ),
    ),
    patches=(
        ("from timm.data import IMAGENET_DEFAULT_MEAN", "from _davit_stub.data import IMAGENET_DEFAULT_MEAN"),
        ("from .helpers import", "from _davit_stub.helpers import"),
        ("from .layers import", "from _davit_stub.layers import"),
        ("from .registry import", "from _davit_stub.registry import"),
        ("from .vision_transformer import", "from _davit_stub.vision_transformer import"),
    ),
    stubs={
        "_davit_stub": "",
        "_davit_stub.data": "IMAGENET_DEFAULT_MEAN = IMAGENET_DEFAULT_STD = (0.5, 0.5, 0.5)\n",
        "_davit_stub.helpers": "def build_model_with_cfg(*a, **k):\n    raise NotImplementedError\n"
        "def overlay_external_default_cfg(*a, **k):\n    raise NotImplementedError\n",
        "_davit_stub.layers": _LAYERS,
        "_davit_stub.registry": "def register_model(fn):\n    return fn\n",
        "_davit_stub.vision_transformer": "def checkpoint_filter_fn(*a, **k):\n    raise NotImplementedError\n"
        "def _init_vit_weights(*a, **k):\n    raise NotImplementedError\n",
    },
    call=_call,
    note="The file's imports of its sibling timm modules (not used by ChannelAttention) are redirected to stubs.",
)
