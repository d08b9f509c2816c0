"""Twins LSA against the official dense-prediction code (``segmentation/gvt.py``, ``GroupAttention``), which,
unlike the classification ``gvt.py``, pads maps that the window does not divide and masks the padding
(``forward_mask``). The official takes ``(N, HW, C)`` tokens and ``H, W``; ``call`` converts with
``cvattn.tokens``. A map padded on both sides and one that needs no padding match; one padded on the right only
is the documented deviation (the official mask vanishes there)."""

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

TIMM_VIT = """
from torch import nn
def _cfg(*args, **kwargs):
    return {}
class Block(nn.Module):
    pass
class Attention(nn.Module):
    pass
"""

MMSEG_BUILDER = """
class _Registry:
    def register_module(self, *args, **kwargs):
        return lambda cls: cls
BACKBONES = _Registry()
"""

# timm, mmseg and mmcv are imported by the file for the Twins backbones (patch embedding, blocks, registries,
# checkpoint loading), not by the attention classes
STUBS = {
    "timm": "",
    "timm.models": "",
    "timm.models.layers": TIMM_LAYERS,
    "timm.models.registry": "def register_model(fn):\n    return fn\n",
    "timm.models.vision_transformer": TIMM_VIT,
    "mmseg": "",
    "mmseg.models": "",
    "mmseg.models.builder": MMSEG_BUILDER,
    "mmseg.utils": "def get_root_logger(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
    "mmcv": "",
    "mmcv.runner": "def load_checkpoint(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
}


def call_with_tokens(module, inputs):
    (x,) = inputs
    size = x.shape[-2:]
    return from_tokens(module(to_tokens(x), *size), size)


RECIPE = Recipe(
    module="twins-lsa",
    repo="https://github.com/Meituan-AutoML/Twins",
    file="segmentation/gvt.py",
    cls="GroupAttention",
    configs=(
        Config(
            "padded-both-sides",
            {"dim": 8, "num_heads": 2, "qkv_bias": True, "ws": 3},
            {"channels": 8, "num_heads": 2, "qkv_bias": True, "window_size": 3},
            ((2, 8, 7, 8),),
        ),
        Config(
            "no-padding",
            {"dim": 16, "num_heads": 4, "qkv_bias": False, "ws": 3},
            {"channels": 16, "num_heads": 4, "qkv_bias": False, "window_size": 3},
            ((1, 16, 6, 9),),
        ),
        Config(
            "padded-right-only",
            {"dim": 8, "num_heads": 2, "qkv_bias": True, "ws": 3},
            {"channels": 8, "num_heads": 2, "qkv_bias": True, "window_size": 3},
            ((2, 8, 6, 5),),
            expect="differ",
            why="with padding on one side only the official mask covers the whole map and vanishes",
        ),
    ),
    stubs=STUBS,
    call=call_with_tokens,
    deviation=(
        "When only one of H and W needs padding, the official mask (mask[:, -pad_b:, :] with pad_b = 0) covers "
        "the whole map and vanishes, so real pixels attend to padded tokens; cvattn masks the real padding."
    ),
    deviation_zh=(
        "只有 H 或 W 之一需要填充时，官方掩码（pad_b = 0 时的 mask[:, -pad_b:, :]）覆盖整张特征图而失效，真实像素会关注填充出的"
        "词元；cvattn 始终按实际填充位置施加掩码。"
    ),
    note="timm, mmseg and mmcv (imported by the file for the backbones, not used by GroupAttention) are stubbed.",
)
