"""EfficientViT's LiteMLA against the official ``efficientvit/models/nn/ops.py`` (``LiteMLA``), built with
``out_channels = in_channels``. The package ``efficientvit.models.nn`` is given a bare package object pointing at
the real folder (its ``__init__`` pulls in the training code, which needs torchvision), and triton (needed by an
RMS-norm kernel that LiteMLA does not use) is stubbed. One configuration has ``H * W <= dim``, where the official
code takes its quadratic branch."""

from scripts.parity import Config, Recipe

_NN_PACKAGE = """
import os, sys
_sub = os.path.join("efficientvit", "models", "nn")
__path__ = [os.path.join(p, _sub) for p in sys.path if os.path.isfile(os.path.join(p, _sub, "ops.py"))][:1]
"""

_TRITON = """
def jit(fn=None, **kwargs):
    return fn
"""

RECIPE = Recipe(
    module="efficientvit",
    repo="https://github.com/mit-han-lab/efficientvit",
    file="efficientvit/models/nn/ops.py",
    cls="LiteMLA",
    configs=(
        Config(
            "default",
            {"in_channels": 16, "out_channels": 16, "dim": 4},
            {"channels": 16, "dim": 4},
            ((2, 16, 5, 7),),
        ),
        Config(
            "two-scales-bias",
            {"in_channels": 16, "out_channels": 16, "heads": 2, "dim": 8, "use_bias": True, "scales": (3, 5)},
            {"channels": 16, "heads": 2, "dim": 8, "use_bias": True, "scales": (3, 5)},
            ((1, 16, 6, 6),),
        ),
        Config(
            "quadratic-branch",
            {"in_channels": 16, "out_channels": 16, "dim": 8},
            {"channels": 16, "dim": 8},
            ((2, 16, 2, 3),),
        ),
    ),
    rename=((r"^proj\.norm\.", "proj.bn."),),
    stubs={
        "triton": _TRITON,
        "triton.language": "constexpr = int\n",
        "efficientvit.models.nn": _NN_PACKAGE,
    },
    note="triton is stubbed; efficientvit.models.nn is a bare package on the real folder so that its "
    "__init__ (which imports the trainer and torchvision) is not run.",
)
