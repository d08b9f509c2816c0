"""LITv2's HiLo attention against the official ``detection/mmdet/models/backbones/litv2.py`` (``HiLo``): the
version that pads sizes which do not divide the window (the root ``hilo.py`` is the same class without the
padding). The official class takes ``(N, HW, C)`` tokens and ``H, W``; ``call`` converts with ``cvattn.tokens``.
timm, mmdet, mmengine and the deformable-convolution extension, imported for the rest of the backbone, are
stubbed."""

from cvattn.tokens import from_tokens, to_tokens
from scripts.parity import Config, Recipe

from ._common import TIMM_LAYERS

_MMDET_REGISTRY = """
class _Registry:
    def register_module(self, *args, **kwargs):
        return lambda cls: cls
MODELS = _Registry()
"""

_MMENGINE_CHECKPOINT = """
def load_state_dict(*args, **kwargs):
    raise NotImplementedError('stub')
class CheckpointLoader:
    pass
"""


def _call(module, inputs):
    (x,) = inputs
    h, w = x.shape[-2:]
    return from_tokens(module(to_tokens(x), h, w), (h, w))


RECIPE = Recipe(
    module="litv2",
    repo="https://github.com/ziplab/LITv2",
    file="detection/mmdet/models/backbones/litv2.py",
    cls="HiLo",
    configs=(
        Config(
            "padded-non-square",
            {"dim": 16, "num_heads": 4, "window_size": 2, "alpha": 0.5},
            {"channels": 16, "num_heads": 4, "window_size": 2, "alpha": 0.5},
            ((1, 16, 5, 7),),
        ),
        Config(
            "window-3-bias-scale",
            {"dim": 16, "num_heads": 4, "qkv_bias": True, "qk_scale": 0.3, "window_size": 3, "alpha": 0.75},
            {
                "channels": 16,
                "num_heads": 4,
                "qkv_bias": True,
                "qk_scale": 0.3,
                "window_size": 3,
                "alpha": 0.75,
            },
            ((1, 16, 7, 8),),
        ),
        Config(
            "global-window-1",
            {"dim": 16, "num_heads": 2, "window_size": 1},
            {"channels": 16, "num_heads": 2, "window_size": 1},
            ((1, 16, 4, 6),),
        ),
        Config(
            "hifi-only",
            {"dim": 16, "num_heads": 2, "window_size": 2, "alpha": 0.0},
            {"channels": 16, "num_heads": 2, "window_size": 2, "alpha": 0.0},
            ((1, 16, 6, 5),),
        ),
    ),
    stubs={
        "timm": "",
        "timm.models": "",
        "timm.models.layers": TIMM_LAYERS,
        "mm_modules": "",
        "mm_modules.DCN": "",
        "mm_modules.DCN.modules": "",
        "mm_modules.DCN.modules.deform_conv2d": "class DeformConv2dPack:\n    pass\n",
        "mmdet": "",
        "mmdet.registry": _MMDET_REGISTRY,
        "mmengine": "",
        "mmengine.runner": "",
        "mmengine.runner.checkpoint": _MMENGINE_CHECKPOINT,
        "mmengine.logging": "class MMLogger:\n    pass\n",
    },
    call=_call,
    note="timm, mmdet, mmengine and mm_modules (used by the backbone around HiLo) are stubbed.",
)
