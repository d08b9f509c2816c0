"""Video Swin 3-D W-MSA against the official ``mmaction/models/backbones/swin_transformer.py``. ``build`` makes a
``BasicLayer`` (it computes the shift mask for the padded clip with the window and shift that fit the clip, as
the official backbone does) of one block; the block's LayerNorms become identities and its MLP returns zeros,
so the layer maps an ``(N, C, T, H, W)`` clip to ``x + attention(x)``; ``call`` subtracts the residual.
``video_swin_shifted.py`` reuses this with two blocks. The file needs einops (not a cvattn dependency): record
with ``PYTHONPATH`` pointing at an einops install."""

import torch
from torch import nn

from scripts.parity import Config, Recipe

STUBS = {
    "timm": "",
    "timm.models": "",
    "timm.models.layers": (
        "def DropPath(*args, **kwargs):\n    raise NotImplementedError('stub')\n"
        "def trunc_normal_(tensor, *args, **kwargs):\n    return tensor\n"
    ),
    "mmcv": "",
    "mmcv.runner": "def load_checkpoint(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
    "mmaction": "",
    "mmaction.utils": "def get_root_logger(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
}

PATCHES = (
    ("from ..builder import BACKBONES", ""),  # the mmaction registry, used only by the whole backbone
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


def call_residual(module, inputs):
    (x,) = inputs
    return module(x) - x


RENAME = ((r"^blocks\.\d+\.attn\.", ""),)
DROP = (r"relative_position_index$",)
NOTE = (
    "timm, mmcv and mmaction (imported by the file for the whole backbone) are stubbed and the mmaction "
    "registry decorator removed; the block's LayerNorms and MLP are neutralised by `build` and the residual "
    "subtracted by `call`; relative_position_index is a derived buffer (ours is computed per clip) and dropped."
)
SHRUNK_HW = (
    "on a map no larger than the window in height or width the official code reads the bias for the top-left "
    "corner of the full window's index (wrong offsets); ours reads the shrunk window's true offsets"
)
SHRUNK_HW_ZH = "高或宽不大于窗口而窗口缩小时，官方代码取完整窗口索引的左上角（相对位置不对），本实现按缩小后窗口的真实相对位置取偏置"


def _official(dim, heads, window, shifted, **kw):
    return {"dim": dim, "num_heads": heads, "window_size": window, "qkv_bias": True, "shifted": shifted} | kw


RECIPE = Recipe(
    module="video-swin",
    repo="https://github.com/SwinTransformer/Video-Swin-Transformer",
    file="mmaction/models/backbones/swin_transformer.py",
    cls="BasicLayer",
    configs=(
        Config(
            "default",
            _official(8, 2, (2, 3, 3), False),
            {"channels": 8, "num_heads": 2, "window_size": (2, 3, 3)},
            ((1, 8, 2, 3, 6),),
        ),
        Config(
            "padded",
            _official(8, 2, (2, 3, 4), False),
            {"channels": 8, "num_heads": 2, "window_size": (2, 3, 4)},
            ((1, 8, 3, 5, 5),),
        ),
        Config(
            "short-clip",
            _official(8, 4, (8, 3, 3), False),
            {"channels": 8, "num_heads": 4, "window_size": (8, 3, 3)},
            ((1, 8, 3, 3, 4),),
        ),
        Config(
            "no-qkv-bias-scale",
            _official(8, 1, (2, 2, 3), False, qkv_bias=False, qk_scale=0.3),
            {"channels": 8, "num_heads": 1, "window_size": (2, 2, 3), "qkv_bias": False, "qk_scale": 0.3},
            ((1, 8, 3, 4, 5),),
        ),
        Config(
            "small-map",
            _official(8, 2, (2, 5, 5), False),
            {"channels": 8, "num_heads": 2, "window_size": (2, 5, 5)},
            ((1, 8, 2, 4, 6),),
            expect="differ",
            why=SHRUNK_HW,
        ),
    ),
    rename=RENAME,
    drop=DROP,
    patches=PATCHES,
    stubs=STUBS,
    build=build_attention_only,
    call=call_residual,
    deviation=SHRUNK_HW,
    deviation_zh=SHRUNK_HW_ZH,
    note=NOTE,
)
