"""Attention U-Net's attention gate against the official ``models/layers/grid_attention_layer.py``
(``GridAttentionBlock2D``, mode ``concatenation``): the official forward returns ``(W_y, alpha)``; ``call`` keeps
``W_y``, which is what ours returns. Its output transform ``W`` (conv, batch norm) is our ``proj``."""

from scripts.parity import Config, Recipe


def _call(module, inputs):
    x, g = inputs
    y, _alpha = module(x, g)
    return y


RECIPE = Recipe(
    module="attention-unet-gate",
    repo="https://github.com/ozan-oktay/Attention-Gated-Networks",
    file="models/layers/grid_attention_layer.py",
    cls="GridAttentionBlock2D",
    configs=(
        Config(
            "default",
            {"in_channels": 8, "gating_channels": 16, "sub_sample_factor": (2, 2)},
            {"channels": 8, "gating_channels": 16},
            ((2, 8, 7, 9), (2, 16, 4, 5)),
        ),
        Config(
            "inter-8-s1",
            {"in_channels": 8, "gating_channels": 12, "inter_channels": 8, "sub_sample_factor": (1, 1)},
            {"channels": 8, "gating_channels": 12, "inter_channels": 8, "sub_sample_factor": 1},
            ((2, 8, 6, 5), (2, 12, 3, 3)),
        ),
        Config(
            "s3-non-square",
            {"in_channels": 6, "gating_channels": 10, "inter_channels": 4, "sub_sample_factor": (3, 3)},
            {"channels": 6, "gating_channels": 10, "inter_channels": 4, "sub_sample_factor": 3},
            ((1, 6, 10, 14), (1, 10, 5, 7)),
        ),
    ),
    rename=((r"^W\.0\.", "proj.conv."), (r"^W\.1\.", "proj.bn.")),
    call=_call,
    note="The official file imports init_weights from models/networks_other.py, used only to initialise weights, "
    "which the recorder randomises.",
)
