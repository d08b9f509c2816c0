"""Shared pieces of the two RMT recipes (``rmt``, ``rmt-full``): stubs and the attention + position pair."""

import sys

import torch
from torch import nn

from cvattn.tokens import from_channels_last, to_channels_last

from ._common import TIMM_LAYERS

STUBS = {
    "timm": "",
    "timm.models": "",
    "timm.models.layers": TIMM_LAYERS,
    "timm.models.vision_transformer": "class VisionTransformer:\n    pass\ndef _cfg(*args, **kwargs):\n    return {}\n",
    "timm.models.registry": "def register_model(fn):\n    return fn\n",
    "fvcore": "",
    "fvcore.nn": "def FlopCountAnalysis(*args, **kwargs):\n    raise NotImplementedError('stub')\n"
    "def flop_count_table(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
    "einops": "def einsum(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
}


class _Pair(nn.Module):
    def __init__(self, retention: nn.Module, relpos: nn.Module, chunkwise: bool) -> None:
        super().__init__()
        self.retention, self.relpos, self.chunkwise = retention, relpos, chunkwise

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = to_channels_last(x)  # (N, H, W, C)
        rel_pos = self.relpos((t.shape[1], t.shape[2]), chunkwise_recurrent=self.chunkwise)
        return from_channels_last(self.retention(t, rel_pos))


def build_pair(chunkwise: bool):
    def build(cls, kwargs):
        official = sys.modules[cls.__module__]
        kw = dict(kwargs)
        init_value, heads_range = kw.pop("init_value"), kw.pop("heads_range")
        relpos = official.RetNetRelPos2d(kw["embed_dim"], kw["num_heads"], init_value, heads_range)
        return _Pair(cls(**kw), relpos, chunkwise)

    return build


def call_pair(module, inputs):
    (x,) = inputs
    return module(x)
