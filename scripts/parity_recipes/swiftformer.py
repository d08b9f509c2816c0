"""SwiftFormer's efficient additive attention against the official ``models/swiftformer.py``
(``EfficientAdditiveAttnetion``, the official spelling), built with ``token_dim = in_dims`` as in every SwiftFormer
block. The official class takes ``(N, HW, C)`` tokens; ``call`` converts with ``cvattn.tokens``. timm (used by the
network's other layers) is stubbed; einops, not installed here, is stubbed with the one ``repeat`` pattern the
class uses (``b d -> b repeat d``)."""

from cvattn.tokens import from_tokens, to_tokens
from scripts.parity import Config, Recipe

_EINOPS = """
def repeat(tensor, pattern, repeat):
    if pattern.replace(' ', '') != 'bd->brepeatd':
        raise NotImplementedError(pattern)
    return tensor.unsqueeze(1).expand(-1, repeat, -1)
"""

_TIMM_LAYERS = """
def DropPath(*args, **kwargs):
    raise NotImplementedError('stub')
def trunc_normal_(tensor, *args, **kwargs):
    return tensor
"""


def _call(module, inputs):
    (x,) = inputs
    return from_tokens(module(to_tokens(x)), x.shape[-2:])


RECIPE = Recipe(
    module="swiftformer",
    repo="https://github.com/Amshaker/SwiftFormer",
    file="models/swiftformer.py",
    cls="EfficientAdditiveAttnetion",
    configs=(
        Config(
            "default",
            {"in_dims": 16, "token_dim": 16, "num_heads": 1},
            {"channels": 16},
            ((2, 16, 5, 7),),
        ),
        Config(
            "two-heads",
            {"in_dims": 12, "token_dim": 12, "num_heads": 2},
            {"channels": 12, "num_heads": 2},
            ((1, 12, 8, 6),),
        ),
    ),
    rename=((r"^Proj\.", "proj."),),
    stubs={
        "einops": _EINOPS,
        "timm": "",
        "timm.data": "IMAGENET_DEFAULT_MEAN = (0.485, 0.456, 0.406)\nIMAGENET_DEFAULT_STD = (0.229, 0.224, 0.225)\n",
        "timm.models": "",
        "timm.models.layers": _TIMM_LAYERS,
        "timm.models.registry": "def register_model(fn):\n    return fn\n",
        "timm.models.layers.helpers": "def to_2tuple(x):\n    return (x, x)\n",
    },
    call=_call,
    note="timm is stubbed (only the network's other layers use it); einops.repeat is stubbed for its one pattern.",
)
