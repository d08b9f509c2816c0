"""Swin W-MSA against the official dense-prediction backbone (Swin-Transformer-Object-Detection,
``mmdet/models/backbones/swin_transformer.py``), which, unlike the classification code, pads maps that do not
divide the window. ``build`` makes a ``BasicLayer`` (it computes the shift mask for the padded size and hands
the map size to its blocks) of one block (W-MSA); the block's two LayerNorms become identities and its MLP
returns zeros, so the block computes ``x + attention(x)`` with the official padding, windowing and cropping;
``call`` feeds tokens and subtracts the residual. ``swin_shifted.py`` reuses this with two blocks."""

import torch
from torch import nn

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

STUBS = {
    "timm": "",
    "timm.models": "",
    "timm.models.layers": TIMM_LAYERS,
    "mmcv_custom": "def load_checkpoint(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
    "mmdet": "",
    "mmdet.utils": "def get_root_logger(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
}

PATCHES = (
    ("from ..builder import BACKBONES", ""),  # the mmdet registry, used only by the whole backbone
    ("@BACKBONES.register_module()", ""),
)


class PassThrough(nn.Module):
    """Stands for the W-MSA block that precedes an SW-MSA block in a ``BasicLayer``."""

    def forward(self, x, mask_matrix):
        return x


class Zero(nn.Module):
    """Stands for the block's MLP, so that the block adds only the attention to its input."""

    def forward(self, x):
        return torch.zeros_like(x)


def build_attention_only(cls, kwargs):
    kwargs = dict(kwargs)
    shifted = kwargs.pop("shifted")
    layer = cls(depth=2 if shifted else 1, **kwargs)
    if shifted:
        layer.blocks[0] = PassThrough()
    block = layer.blocks[-1]
    block.norm1, block.norm2, block.mlp = nn.Identity(), nn.Identity(), Zero()
    return layer


def call_on_tokens(module, inputs):
    (x,) = inputs
    h, w = x.shape[2], x.shape[3]
    tokens = to_tokens(x)  # (N, HW, C)
    out = module(tokens, h, w)[0]  # x + attention(x)
    return from_tokens(out - tokens, (h, w))


RENAME = ((r"^blocks\.\d+\.attn\.", ""),)
DROP = (r"relative_position_index$",)
NOTE = (
    "timm, mmcv_custom and mmdet (imported by the file for the whole backbone) are stubbed and the mmdet "
    "registry decorator removed; the block's LayerNorms and MLP are neutralised by `build` and the residual "
    "subtracted by `call`; relative_position_index is a derived buffer (ours is not saved) and dropped."
)

RECIPE = Recipe(
    module="swin",
    repo="https://github.com/SwinTransformer/Swin-Transformer-Object-Detection",
    file="mmdet/models/backbones/swin_transformer.py",
    cls="BasicLayer",
    configs=(
        Config(
            "default",
            {"dim": 16, "num_heads": 2, "window_size": 3, "shifted": False},
            {"channels": 16, "num_heads": 2, "window_size": 3},
            ((1, 16, 6, 6),),
        ),
        Config(
            "padded",
            {"dim": 8, "num_heads": 2, "window_size": 4, "shifted": False},
            {"channels": 8, "num_heads": 2, "window_size": 4},
            ((1, 8, 7, 10),),
        ),
        Config(
            "no-qkv-bias-scale",
            {
                "dim": 8,
                "num_heads": 1,
                "window_size": 5,
                "qkv_bias": False,
                "qk_scale": 0.3,
                "shifted": False,
            },
            {"channels": 8, "num_heads": 1, "window_size": 5, "qkv_bias": False, "qk_scale": 0.3},
            ((1, 8, 9, 11),),
        ),
    ),
    rename=RENAME,
    drop=DROP,
    patches=PATCHES,
    stubs=STUBS,
    build=build_attention_only,
    call=call_on_tokens,
    note=NOTE,
)
