"""ConvNeXt block against the official ``models/convnext.py`` (``Block``): the same parameter names and layout
(depthwise conv, channels-last LayerNorm, two linear layers, layer scale), compared with and without layer scale.
"""

from scripts.parity import Config, Recipe

from ._common import TIMM_LAYERS

RECIPE = Recipe(
    module="convnext",
    repo="https://github.com/facebookresearch/ConvNeXt",
    file="models/convnext.py",
    cls="Block",
    configs=(
        Config("default", {"dim": 16}, {"channels": 16}, ((1, 16, 6, 7),)),
        Config(
            "layer-scale-0.5",
            {"dim": 24, "layer_scale_init_value": 0.5},
            {"channels": 24, "layer_scale_init_value": 0.5},
            ((1, 24, 5, 6),),
        ),
        Config(
            "no-layer-scale",
            {"dim": 8, "layer_scale_init_value": 0.0},
            {"channels": 8, "layer_scale_init_value": 0.0},
            ((1, 8, 6, 5),),
        ),
    ),
    stubs={
        "timm": "",
        "timm.models": "",
        "timm.models.layers": TIMM_LAYERS,
        "timm.models.registry": "def register_model(fn):\n    return fn\n",
    },
    note="timm (imported by the file for DropPath, trunc_normal_ and the model registry) is stubbed; drop path is "
    "off in the configurations compared (the official DropPath is then nn.Identity).",
)
