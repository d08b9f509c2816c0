"""CSWin cross-shaped window attention against the official segmentation backbone
(``segmentation/backbone/cswin_transformer.py``, ``CSWinBlock`` with its two ``LePEAttention`` branches), which,
unlike the classification code, takes maps of any size and pads ``Q, K, V`` to multiples of the stripe
width. ``build`` makes the block's LayerNorms identities and its MLP return zeros, so that the block computes
``x + attention(x)``; ``call`` hands it the map size, feeds tokens and subtracts the residual."""

import torch
from torch import nn

from cvattn.tokens import from_tokens, to_tokens
from scripts.parity import Config, Recipe

from ._common import TIMM_LAYERS

_STUB = "def _stub(*args, **kwargs):\n    raise NotImplementedError('stub')\n"


class Zero(nn.Module):
    """Stands for the block's MLP, so that the block adds only the attention to its input."""

    def forward(self, x):
        return torch.zeros_like(x)


def _build(cls, kwargs):
    block = cls(**kwargs)
    block.norm1, block.norm2, block.mlp = nn.Identity(), nn.Identity(), Zero()
    return block


def _call(module, inputs):
    (x,) = inputs
    h, w = x.shape[2], x.shape[3]
    module.H, module.W = h, w  # set by the official backbone before each block
    tokens = to_tokens(x)  # (N, HW, C)
    return from_tokens(module(tokens) - tokens, (h, w))


RECIPE = Recipe(
    module="cswin",
    repo="https://github.com/microsoft/CSWin-Transformer",
    file="segmentation/backbone/cswin_transformer.py",
    cls="CSWinBlock",
    configs=(
        Config(
            "default",
            {"dim": 16, "patches_resolution": 8, "num_heads": 2, "split_size": 2},
            {"channels": 16, "num_heads": 2, "split_size": 2},
            ((1, 16, 6, 8),),
        ),
        Config(
            "padded-both-sides",
            {"dim": 8, "patches_resolution": 8, "num_heads": 4, "split_size": 4},
            {"channels": 8, "num_heads": 4, "split_size": 4},
            ((1, 8, 5, 9),),
        ),
        Config(
            "stripe-3-scale",
            {"dim": 8, "patches_resolution": 8, "num_heads": 2, "split_size": 3, "qk_scale": 0.4},
            {"channels": 8, "num_heads": 2, "split_size": 3, "qk_scale": 0.4},
            ((2, 8, 7, 5),),
        ),
        Config(
            "last-stage",
            {"dim": 8, "patches_resolution": 8, "num_heads": 2, "split_size": 7, "last_stage": True},
            {"channels": 8, "num_heads": 2, "last_stage": True},
            ((1, 8, 5, 6),),
        ),
    ),
    rename=((r"^attns\.(\d)\.get_v\.", r"lepe.\1."),),
    patches=(
        ("from ..builder import BACKBONES", ""),  # the mmseg registry, used only by the whole backbone
        ("@BACKBONES.register_module()", ""),
    ),
    stubs={
        "timm": "",
        "timm.data": "IMAGENET_DEFAULT_MEAN = IMAGENET_DEFAULT_STD = None\n",
        "timm.models": "",
        "timm.models.helpers": _STUB + "load_pretrained = _stub\n",
        "timm.models.layers": TIMM_LAYERS,
        "timm.models.resnet": _STUB + "resnet26d = resnet50d = _stub\n",
        "timm.models.registry": "def register_model(fn):\n    return fn\n",
        "einops": "",
        "einops.layers": "",
        "einops.layers.torch": _STUB + "Rearrange = _stub\n",
        "mmcv_custom": _STUB + "load_checkpoint = _stub\n",
        "mmseg": "",
        "mmseg.utils": _STUB + "get_root_logger = _stub\n",
    },
    build=_build,
    call=_call,
    note=(
        "timm, einops, mmcv_custom and mmseg (imported by the file for the whole backbone) are stubbed and the "
        "mmseg registry decorator removed; the block's LayerNorms and MLP are neutralised by `build` and the "
        "residual subtracted by `call`."
    ),
)
