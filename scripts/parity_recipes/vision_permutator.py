"""ViP's weighted Permute-MLP against the official ``models/vip.py`` (``WeightedPermuteMLP``): the official takes
``(N, H, W, C)``; ``call`` permutes our ``(N, C, H, W)`` input with ``cvattn.tokens`` and back. The official layer
runs only on ``H = W = segment_dim`` maps, so every configuration is square; the padded sizes our module also
accepts are checked against the paper's equations in ``tests/modules/test_vision_permutator.py``."""

from cvattn.tokens import from_channels_last, to_channels_last
from scripts.parity import Config, Recipe

from ._common import TIMM_LAYERS


def _call(module, inputs):
    (x,) = inputs
    return from_channels_last(module(to_channels_last(x)))


RECIPE = Recipe(
    module="vision-permutator",
    repo="https://github.com/Andrew-Qibin/VisionPermutator",
    file="models/vip.py",
    cls="WeightedPermuteMLP",
    configs=(
        Config(
            "default", {"dim": 16, "segment_dim": 4}, {"channels": 16, "segment_dim": 4}, ((2, 16, 4, 4),)
        ),
        Config(
            "qkv-bias",
            {"dim": 24, "segment_dim": 6, "qkv_bias": True},
            {"channels": 24, "segment_dim": 6, "qkv_bias": True},
            ((1, 24, 6, 6),),
        ),
        Config(
            "segments-8", {"dim": 16, "segment_dim": 8}, {"channels": 16, "segment_dim": 8}, ((1, 16, 8, 8),)
        ),
    ),
    rename=((r"^reweight\.fc1\.", "reweight.0."), (r"^reweight\.fc2\.", "reweight.2.")),
    stubs={
        "timm": "",
        "timm.data": "IMAGENET_DEFAULT_MEAN = (0.485, 0.456, 0.406)\nIMAGENET_DEFAULT_STD = (0.229, 0.224, 0.225)\n",
        "timm.models": "",
        "timm.models.layers": TIMM_LAYERS,
        "timm.models.registry": "def register_model(fn):\n    return fn\n",
    },
    call=_call,
    note="timm, imported by the file for the rest of the ViP network, is stubbed; the re-weighting Mlp's fc1/fc2 "
    "are our reweight.0/reweight.2. Square maps only (no non-square configuration): the official layer runs only when H = W = segment_dim "
    "(ours pads other sizes; checked against a float64 reference in tests/modules/test_vision_permutator.py).",
)
