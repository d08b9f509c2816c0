"""Motionformer's trajectory attention against the official ``slowfast/models/vit_helper.py``
(``TrajectoryAttention``, exact attention ``approx="none"``). ``call`` feeds the clip's time-major tokens behind a
class token (the official patches attend to the patches only, so the class token does not change their
output), with ``seq_len=H*W`` and ``num_frames=T``, and keeps the patches' output. Both settings of
``use_original_code`` (temporal values ``y`` or ``W_v y``) are recorded. The file needs einops (not a cvattn
dependency): record with ``PYTHONPATH`` pointing at an einops install."""

import torch

from cvattn.clips import from_clip_tokens, to_clip_tokens
from scripts.parity import Config, Recipe

STUBS = {
    "timm": "",
    "timm.data": "IMAGENET_DEFAULT_MEAN = IMAGENET_DEFAULT_STD = None\n",
    "timm.models": "",
    "timm.models.layers": (
        "def DropPath(*args, **kwargs):\n    raise NotImplementedError('stub')\n"
        "def to_2tuple(x):\n    return (x, x)\n"
        "def trunc_normal_(tensor, *args, **kwargs):\n    return tensor\n"
    ),
    "timm.models.resnet": "resnet26d = resnet50d = None\n",
    "timm.models.registry": "def register_model(fn):\n    return fn\n",
}

PATCHES = (
    # the approximations' helpers (relative imports), unused by the exact attention
    ("from . import performer_helper\n", ""),
    ("from . import orthoformer_helper\n", ""),
    ("from . import nystrom_helper\n", ""),
)


def call_on_tokens(module, inputs):
    (x,) = inputs
    n, c, t, h, w = x.shape
    tokens = to_clip_tokens(x)  # official order: (f n), time-major
    cls_token = torch.zeros(n, 1, c, dtype=x.dtype)
    out = module(torch.cat((cls_token, tokens), 1), seq_len=h * w, num_frames=t)[0][:, 1:]
    return from_clip_tokens(out, (t, h, w))


RECIPE = Recipe(
    module="motionformer",
    repo="https://github.com/facebookresearch/Motionformer",
    file="slowfast/models/vit_helper.py",
    cls="TrajectoryAttention",
    configs=(
        Config(
            "default",
            {"dim": 16, "num_heads": 2, "qkv_bias": True, "use_original_code": False},
            {"channels": 16, "num_heads": 2},
            ((2, 16, 4, 3, 5),),
        ),
        Config(
            "original-code",
            {"dim": 12, "num_heads": 3, "qkv_bias": True, "use_original_code": True},
            {"channels": 12, "num_heads": 3, "use_original_code": True},
            ((1, 12, 3, 4, 4),),
        ),
        Config(
            "no-qkv-bias",
            {"dim": 8, "num_heads": 1, "qkv_bias": False, "use_original_code": False},
            {"channels": 8, "num_heads": 1, "qkv_bias": False},
            ((1, 8, 5, 2, 3),),
        ),
    ),
    patches=PATCHES,
    stubs=STUBS,
    call=call_on_tokens,
    note=(
        "timm (imported by the file for the whole network) is stubbed and the relative imports of the "
        "Performer, Orthoformer and Nyström helpers (used only by the approximations) removed; the class "
        "token's output is dropped by `call`."
    ),
)
