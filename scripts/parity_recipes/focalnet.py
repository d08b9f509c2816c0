"""Focal modulation against the official ``classification/focalnet.py`` (``FocalModulation``): the official
takes ``(N, H, W, C)``; ``call`` converts with ``cvattn.tokens``. The FocalNet default (window 3, two levels), a
configuration with post-modulation layer norm, a normalised modulator and no bias, and a single level; all on
non-square maps."""

from cvattn.tokens import from_channels_last, to_channels_last
from scripts.parity import Config, Recipe

_NOT_USED = "def {}(*args, **kwargs):\n    raise NotImplementedError('stub')\n"

# timm and torchvision are imported by the file for the network and its image transforms, not by FocalModulation
_STUBS = {
    "timm": "",
    "timm.models": "",
    "timm.models.layers": "".join(_NOT_USED.format(n) for n in ("DropPath", "to_2tuple", "trunc_normal_")),
    "timm.models.registry": "def register_model(fn):\n    return fn\n",
    "timm.data": _NOT_USED.format("create_transform"),
    "timm.data.constants": "IMAGENET_DEFAULT_MEAN = IMAGENET_DEFAULT_STD = None\n",
    "torchvision": "transforms = None\n",
}


def _call(module, inputs):
    (x,) = inputs
    return from_channels_last(module(to_channels_last(x)))


RECIPE = Recipe(
    module="focalnet",
    repo="https://github.com/microsoft/FocalNet",
    file="classification/focalnet.py",
    cls="FocalModulation",
    configs=(
        Config(
            "default",
            {"dim": 8, "focal_window": 3, "focal_level": 2},
            {"channels": 8, "focal_window": 3, "focal_level": 2},
            ((2, 8, 6, 7),),
        ),
        Config(
            "postln-normalized-no-bias",
            {
                "dim": 6,
                "focal_window": 1,
                "focal_level": 3,
                "bias": False,
                "use_postln_in_modulation": True,
                "normalize_modulator": True,
            },
            {
                "channels": 6,
                "focal_window": 1,
                "focal_level": 3,
                "bias": False,
                "use_postln_in_modulation": True,
                "normalize_modulator": True,
            },
            ((2, 6, 9, 5),),
        ),
        Config(
            "one-level",
            {"dim": 4, "focal_window": 5, "focal_level": 1},
            {"channels": 4, "focal_window": 5, "focal_level": 1},
            ((1, 4, 11, 13),),
        ),
    ),
    stubs=_STUBS,
    call=_call,
    note="timm and torchvision (imported by the file for the network and its transforms) are stubbed.",
)
