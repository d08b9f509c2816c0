"""Swin V2 window attention against the official ``models/swin_transformer_v2.py`` (``SwinTransformerBlock``,
which holds the cyclic shift, the shift mask for its fixed ``input_resolution`` and the windowing around
``WindowAttention``). ``build`` makes the block's two post-norms identities and its MLP return zeros, so the
block computes ``x + attention(x)``; ``call`` feeds tokens and subtracts the residual. The official block
needs a map that the window divides, so no padded configuration is recorded (the module's tests cover
padding). ``swinv2_shifted.py`` reuses this."""

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

STUBS = {"timm": "", "timm.models": "", "timm.models.layers": TIMM_LAYERS}


class Zero(nn.Module):
    """Stands for the block's MLP, so that the block adds only the attention to its input."""

    def forward(self, x):
        return torch.zeros_like(x)


def build_attention_only(cls, kwargs):
    block = cls(**kwargs)
    block.norm1, block.norm2, block.mlp = nn.Identity(), nn.Identity(), Zero()
    return block


def call_on_tokens(module, inputs):
    (x,) = inputs
    tokens = to_tokens(x)  # (N, HW, C)
    return from_tokens(module(tokens) - tokens, (x.shape[2], x.shape[3]))


RENAME = ((r"^attn\.", ""),)
DROP = (r"relative_coords_table$", r"relative_position_index$", r"^attn_mask$")
NOTE = (
    "timm (imported by the file for the whole network) is stubbed; the block's post-norms and MLP are "
    "neutralised by `build` and the residual subtracted by `call`; the coordinate table, the index and the "
    "shift mask are derived buffers (ours are not saved) and dropped."
)

RECIPE = Recipe(
    module="swinv2",
    repo="https://github.com/microsoft/Swin-Transformer",
    file="models/swin_transformer_v2.py",
    cls="SwinTransformerBlock",
    configs=(
        Config(
            "default",
            {"dim": 16, "input_resolution": (8, 8), "num_heads": 2, "window_size": 4},
            {"channels": 16, "num_heads": 2, "window_size": 4},
            ((1, 16, 8, 8),),
        ),
        Config(
            "non-square",
            {"dim": 8, "input_resolution": (6, 9), "num_heads": 4, "window_size": 3},
            {"channels": 8, "num_heads": 4, "window_size": 3},
            ((1, 8, 6, 9),),
        ),
        Config(
            "pretrained-window-no-bias",
            {
                "dim": 8,
                "input_resolution": (10, 5),
                "num_heads": 2,
                "window_size": 5,
                "qkv_bias": False,
                "pretrained_window_size": 3,
            },
            {"channels": 8, "num_heads": 2, "window_size": 5, "qkv_bias": False, "pretrained_window_size": 3},
            ((1, 8, 10, 5),),
        ),
    ),
    rename=RENAME,
    drop=DROP,
    stubs=STUBS,
    build=build_attention_only,
    call=call_on_tokens,
    note=NOTE,
)
