"""Aggregated attention against the official PyTorch-native ``AggregatedAttention`` of DaiShiResearch/TransNeXt,
imported through ``classification/transnext.py`` (which loads ``attention_native.py`` when the CUDA extension
``swattention`` is absent, as here). The official class takes ``(N, HW, C)`` tokens, ``H, W`` and the relative
positions of ``get_relative_position_cpb`` (same file), and fixes ``input_resolution`` at construction: each
configuration builds it for its input size, and ``call`` computes the positions for ``img_size = pretrain_size``
and flattens our map into tokens. Configurations: a TransNeXt first-stage layout (pooling 8) on a non-square map,
pooling 2 with a 5x5 window, and a fixed pool size."""

import sys

from scripts.parity import Config, Recipe

from ._common import TIMM_LAYERS

_PKG_RESOURCES = """
class DistributionNotFound(Exception):
    pass
def get_distribution(name):
    raise DistributionNotFound(name)
"""

_NAME = "_cvattn_official_transnext"  # the name scripts.parity gives the imported official file


def _call(module, inputs):
    (x,) = inputs
    n, c, h, w = x.shape
    official = sys.modules[_NAME]
    key = (module.pool_H, module.pool_W)  # H // sr, W // sr, or the fixed pool size
    index, table = official.get_relative_position_cpb(query_size=(h, w), key_size=key, pretrain_size=(h, w))
    y = module(x.flatten(2).transpose(1, 2), h, w, index, table.to(x.dtype))  # (N, HW, C)
    return y.transpose(1, 2).reshape(n, c, h, w)


RECIPE = Recipe(
    module="transnext",
    repo="https://github.com/DaiShiResearch/TransNeXt",
    file="classification/transnext.py",
    cls="AggregatedAttention",
    configs=(
        Config(
            "default",
            {"dim": 8, "input_resolution": (8, 16), "num_heads": 2, "window_size": 3, "sr_ratio": 8},
            {"channels": 8, "num_heads": 2, "window_size": 3, "sr_ratio": 8},
            ((1, 8, 8, 16),),
        ),
        Config(
            "window-5-pool-2",
            {"dim": 8, "input_resolution": (6, 5), "num_heads": 4, "window_size": 5, "sr_ratio": 2},
            {"channels": 8, "num_heads": 4, "window_size": 5, "sr_ratio": 2},
            ((1, 8, 6, 5),),
        ),
        Config(
            "fixed-pool",
            {"dim": 8, "input_resolution": (7, 9), "num_heads": 2, "sr_ratio": 4, "fixed_pool_size": 3},
            {"channels": 8, "num_heads": 2, "sr_ratio": 4, "pool_size": 3},
            ((1, 8, 7, 9),),
        ),
    ),
    rename=(),
    stubs={
        "timm": "",
        "timm.models": "",
        "timm.models.layers": TIMM_LAYERS,
        "timm.models.registry": "def register_model(fn):\n    return fn\n",
        "timm.models.vision_transformer": "def _cfg(*args, **kwargs):\n    return {}\n",
        "pkg_resources": _PKG_RESOURCES,
    },
    call=_call,
    note="timm (imported by transnext.py for the network) is stubbed, and pkg_resources by a stub that reports "
    "swattention as not installed, so the file loads the PyTorch-native AggregatedAttention.",
)
