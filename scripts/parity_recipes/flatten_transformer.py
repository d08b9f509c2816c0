"""FLatten's focused linear attention against the official ``models/flatten_swin.py`` (``FocusedLinearAttention``):
the official takes the windows ``(N * nW, M*M, C)``; ``call`` zero-pads our ``(N, C, H, W)`` input at the bottom and
right to multiples of the window (the padding our module does, documented as a deviation), cuts the windows,
runs the official attention and folds the windows back and crops. Configurations: one window on the whole map,
several windows on a map that needs padding, and another focusing power and kernel size."""

import torch.nn.functional as F

from cvattn.tokens import from_channels_last, to_channels_last
from scripts.parity import Config, Recipe

from ._common import TIMM_LAYERS


def _call(module, inputs):
    (x,) = inputs
    n, c, h, w = x.shape
    m = module.window_size[0]
    hp, wp = -(-h // m) * m, -(-w // m) * m
    z = F.pad(to_channels_last(x), (0, 0, 0, wp - w, 0, hp - h))  # (N, Hp, Wp, C)
    z = z.reshape(n, hp // m, m, wp // m, m, c).transpose(2, 3).reshape(-1, m * m, c)  # windows
    y = module(z).reshape(n, hp // m, wp // m, m, m, c).transpose(2, 3).reshape(n, hp, wp, c)
    return from_channels_last(y[:, :h, :w])


def _official(dim, heads, m, p=3, k=5):
    return {"dim": dim, "window_size": (m, m), "num_heads": heads, "focusing_factor": p, "kernel_size": k}


RECIPE = Recipe(
    module="flatten-transformer",
    repo="https://github.com/LeapLabTHU/FLatten-Transformer",
    file="models/flatten_swin.py",
    cls="FocusedLinearAttention",
    configs=(
        Config(
            "one-window",
            _official(16, 2, 6),
            {"channels": 16, "num_heads": 2, "window_size": 6},
            ((2, 16, 6, 6),),
        ),
        Config(
            "padded-windows",
            _official(16, 4, 3),
            {"channels": 16, "num_heads": 4, "window_size": 3},
            ((1, 16, 5, 7),),
        ),
        Config(
            "p2-k3",
            _official(12, 3, 4, p=2, k=3),
            {"channels": 12, "num_heads": 3, "window_size": 4, "focusing_factor": 2, "kernel_size": 3},
            ((1, 12, 8, 6),),
        ),
    ),
    stubs={
        "timm": "",
        "timm.models": "",
        "timm.models.layers": TIMM_LAYERS,
        "einops": "def rearrange(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
    },
    call=_call,
    note="timm and einops (imported by the file for the network, not used by FocusedLinearAttention) are "
    "stubbed; call pads and partitions the map into windows as the cvattn module does.",
)
