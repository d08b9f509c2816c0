"""FasterNet block against the official ``models/fasternet.py`` (``MLPBlock``): PConv, 1x1 conv, BN, activation,
1x1 conv and the residual, with ReLU (FasterNet-T2/S/M/L) and with GELU and a layer scale.
"""

import torch.nn as nn

from scripts.parity import Config, Recipe

from ._common import TIMM_LAYERS

_ACTS = {"relu": lambda: nn.ReLU(inplace=True), "gelu": nn.GELU}


def _build(cls, kwargs):
    kwargs = dict(kwargs)
    kwargs["act_layer"] = _ACTS[kwargs["act_layer"]]
    return cls(norm_layer=nn.BatchNorm2d, drop_path=0.0, pconv_fw_type="split_cat", **kwargs)


RECIPE = Recipe(
    module="pconv-block",
    repo="https://github.com/JierunChen/FasterNet",
    file="models/fasternet.py",
    cls="MLPBlock",
    configs=(
        Config(
            "default-relu",
            {"dim": 16, "n_div": 4, "mlp_ratio": 2.0, "layer_scale_init_value": 0, "act_layer": "relu"},
            {"channels": 16},
            ((1, 16, 6, 7),),
        ),
        Config(
            "gelu-layer-scale",
            {"dim": 24, "n_div": 4, "mlp_ratio": 3.0, "layer_scale_init_value": 0.5, "act_layer": "gelu"},
            {"channels": 24, "mlp_ratio": 3.0, "layer_scale_init_value": 0.5, "act_layer": "gelu"},
            ((1, 24, 5, 6),),
        ),
    ),
    rename=((r"^spatial_mixing\.partial_conv3\.", "spatial_mixing.conv."),),
    build=_build,
    stubs={"timm": "", "timm.models": "", "timm.models.layers": TIMM_LAYERS},
    note="timm (imported by the file for DropPath and trunc_normal_ of the FasterNet network) is stubbed; drop "
    "path is off in the configurations compared (the official DropPath is then nn.Identity).",
)
