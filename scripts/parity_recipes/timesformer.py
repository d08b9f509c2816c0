"""TimeSformer divided space-time attention against the official ``timesformer/models/vit.py`` (``Block`` with
``attention_type="divided_space_time"``). The block's LayerNorms become identities and its MLP returns zeros,
and two patches take the class token out of the spatial attention (ours has none), so the block computes
``x + attention(x)`` on the patch tokens; ``call`` feeds the official ``(h w t)`` token order (space-major, time
last) behind a class token, drops the class token from the output and subtracts the residual. The file needs
einops (not a cvattn dependency): record with ``PYTHONPATH`` pointing at an einops install."""

import torch
from torch import nn

from scripts.parity import Config, Recipe

STUBS = {
    "timesformer": "",
    "timesformer.models": "",
    "timesformer.models.vit_utils": (
        "IMAGENET_DEFAULT_MEAN = IMAGENET_DEFAULT_STD = None\n"
        "def DropPath(*args, **kwargs):\n    raise NotImplementedError('stub')\n"
        "def to_2tuple(x):\n    return (x, x)\n"
        "def trunc_normal_(tensor, *args, **kwargs):\n    return tensor\n"
    ),
    "timesformer.models.helpers": "def load_pretrained(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
}

PATCHES = (
    ("from .build import MODEL_REGISTRY", "MODEL_REGISTRY = None"),  # the model registry of the whole network
    ("@MODEL_REGISTRY.register()", ""),
    ("            xs = torch.cat((cls_token, xs), 1)\n", ""),  # no class token among the spatial keys
    ("            res_spatial = res_spatial[:,1:,:]\n", ""),
)


class Zero(nn.Module):
    """Stands for the block's MLP, so that the block adds only the attention to its input."""

    def forward(self, x):
        return torch.zeros_like(x)


def build_attention_only(cls, kwargs):
    block = cls(drop_path=0.0, attention_type="divided_space_time", **kwargs)
    block.norm1, block.temporal_norm1, block.norm2, block.mlp = (
        nn.Identity(),
        nn.Identity(),
        nn.Identity(),
        Zero(),
    )
    return block


def call_on_tokens(module, inputs):
    (x,) = inputs
    n, c, t, h, w = x.shape
    tokens = x.permute(0, 3, 4, 2, 1).reshape(n, h * w * t, c)  # official order: (h w t)
    cls_token = torch.zeros(n, 1, c, dtype=x.dtype)
    out = module(torch.cat((cls_token, tokens), 1), n, t, w)[:, 1:] - tokens
    return out.reshape(n, h, w, t, c).permute(0, 4, 3, 1, 2)


RECIPE = Recipe(
    module="timesformer",
    repo="https://github.com/facebookresearch/TimeSformer",
    file="timesformer/models/vit.py",
    cls="Block",
    configs=(
        Config(
            "default",
            {"dim": 16, "num_heads": 2, "qkv_bias": True},
            {"channels": 16, "num_heads": 2},
            ((2, 16, 4, 3, 5),),
        ),
        Config(
            "no-qkv-bias-scale",
            {"dim": 12, "num_heads": 3, "qkv_bias": False, "qk_scale": 0.3},
            {"channels": 12, "num_heads": 3, "qkv_bias": False, "qk_scale": 0.3},
            ((1, 12, 3, 4, 4),),
        ),
    ),
    patches=PATCHES,
    stubs=STUBS,
    build=build_attention_only,
    call=call_on_tokens,
    note=(
        "timesformer.models.vit_utils and helpers (which import torch._six, gone from torch 2) and the model "
        "registry are stubbed; two patches drop the class token from the spatial attention; the block's "
        "LayerNorms and MLP are neutralised by `build` and the residual subtracted by `call`; drop_path is 0."
    ),
)
