"""EMO's iRMB against the official ``model/emo.py`` (``iRMB``): the class defaults (attention on the values, on
a map padded to the window), the EMO models' setting (attention before the value projection, biases, SiLU,
5x5 depthwise conv), attention over the whole map, and the attention-free down-sampling block.

The file needs einops (not a cvattn dependency): record with ``PYTHONPATH`` pointing at an einops install.
timm is stubbed (the block uses none of it for these configurations: no squeeze-excitation, no drop path), and
so is the repository's model registry."""

from scripts.parity import Config, Recipe

TIMM_ACTIVATIONS = """
import torch
from torch import nn
from torch.nn import functional as F


def _accepting_inplace(base):
    class Act(base):
        def __init__(self, inplace=False):
            super().__init__()
    return Act


Sigmoid, Tanh, GELU = _accepting_inplace(nn.Sigmoid), _accepting_inplace(nn.Tanh), _accepting_inplace(nn.GELU)
Swish, Mish, HardMish = _accepting_inplace(nn.SiLU), _accepting_inplace(nn.Mish), _accepting_inplace(nn.Mish)
HardSigmoid, HardSwish = _accepting_inplace(nn.Hardsigmoid), _accepting_inplace(nn.Hardswish)
PReLU = _accepting_inplace(nn.PReLU)
"""

TIMM_LAYERS = """
def DropPath(*args, **kwargs):
    raise NotImplementedError('stub')
def trunc_normal_(tensor, *args, **kwargs):
    return tensor
def create_attn(*args, **kwargs):
    raise NotImplementedError('stub')
"""

STUBS = {
    "cv2": "",
    "timm": "",
    "timm.models": "",
    "timm.models.layers": TIMM_LAYERS,
    "timm.models.layers.activations": TIMM_ACTIVATIONS,
    "timm.models.layers.weight_init": "def trunc_normal_(tensor, *args, **kwargs):\n    return tensor\n",
    "timm.models.efficientnet_blocks": "def num_groups(*a):\n    raise NotImplementedError\n"
    "def SqueezeExcite(*a, **k):\n    raise NotImplementedError('stub')\n",
    "timm.models.efficientnet_builder": "def _parse_ksize(*a):\n    raise NotImplementedError\n",
}

PATCHES = (
    # the package import runs the repository's model registry (timm, glob over model files): import the sibling
    # file directly (its folder is on sys.path) and replace the registry by a no-op decorator
    ("from model.basic_modules import", "from basic_modules import"),
    (
        "from model import MODEL",
        "MODEL = type('Registry', (), {'register_module': staticmethod(lambda f: f)})()",
    ),
)

RECIPE = Recipe(
    module="emo",
    repo="https://github.com/zhangzjn/EMO",
    file="model/emo.py",
    cls="iRMB",
    configs=(
        Config(
            "class-defaults-padded",
            {"dim_in": 16, "dim_out": 16, "dim_head": 8, "window_size": 4},
            {"in_channels": 16, "out_channels": 16, "dim_head": 8, "window_size": 4},
            ((1, 16, 9, 11),),
        ),
        Config(
            "emo-setting-attn-pre",
            {
                "dim_in": 8,
                "dim_out": 8,
                "exp_ratio": 4.0,
                "dim_head": 4,
                "window_size": 3,
                "dw_ks": 5,
                "attn_pre": True,
                "qkv_bias": True,
                "act_layer": "silu",
            },
            {
                "in_channels": 8,
                "out_channels": 8,
                "exp_ratio": 4.0,
                "dim_head": 4,
                "window_size": 3,
                "kernel_size": 5,
                "attn_pre": True,
                "qkv_bias": True,
                "act_layer": "silu",
            },
            ((1, 8, 7, 8),),
        ),
        Config(
            "global-window-grouped-v",
            {
                "dim_in": 12,
                "dim_out": 12,
                "exp_ratio": 2.0,
                "dim_head": 4,
                "window_size": 0,
                "qkv_bias": True,
                "v_group": True,
                "act_layer": "gelu",
            },
            {
                "in_channels": 12,
                "out_channels": 12,
                "exp_ratio": 2.0,
                "dim_head": 4,
                "window_size": 0,
                "qkv_bias": True,
                "v_group": True,
                "act_layer": "gelu",
            },
            ((1, 12, 5, 6),),
        ),
        Config(
            "no-attention-stride2",
            {
                "dim_in": 8,
                "dim_out": 16,
                "exp_ratio": 2.0,
                "attn_s": False,
                "has_skip": False,
                "stride": 2,
                "qkv_bias": True,
                "act_layer": "silu",
            },
            {
                "in_channels": 8,
                "out_channels": 16,
                "exp_ratio": 2.0,
                "attn": False,
                "has_skip": False,
                "stride": 2,
                "qkv_bias": True,
                "act_layer": "silu",
            },
            ((1, 8, 9, 10),),
        ),
    ),
    rename=(
        (r"^qk\.conv\.", "qk."),
        (r"^v\.conv\.", "v.0."),
        (r"^conv_local\.norm\.", "conv_local.bn."),
        (r"^proj\.conv\.", "proj."),
    ),
    patches=PATCHES,
    stubs=STUBS,
    note="timm (activations, drop path, squeeze-excite), cv2 and the model registry are stubbed; einops is real.",
)
