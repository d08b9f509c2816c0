"""CvT convolutional projection attention against the official ``lib/models/cls_cvt.py`` (``Attention``) built with
``dim_in = dim_out`` and ``with_cls_token=False``: the official takes ``(N, HW, C)`` tokens and ``h, w``; ``call``
converts with ``cvattn.tokens``. The depthwise-conv + BatchNorm projection with key/value stride 2 and 1, and the
average-pooling projection, on non-square maps. The file needs einops (not a cvattn dependency): record with
``PYTHONPATH`` pointing at an einops install."""

from cvattn.tokens import from_tokens, to_tokens
from scripts.parity import Config, Recipe

TIMM_LAYERS = """
def DropPath(*args, **kwargs):
    raise NotImplementedError('stub')
def trunc_normal_(tensor, *args, **kwargs):
    return tensor
"""

# timm is imported by the file for the network (drop path, init); torch._six, gone from current torch, only for
# its to_ntuple helper
STUBS = {
    "timm": "",
    "timm.models": "",
    "timm.models.layers": TIMM_LAYERS,
    "torch._six": "import collections.abc as container_abcs\n",
}

PATCHES = (
    # the package-relative import of the model registry (used by the network's factory, not by Attention)
    ("from .registry import register_model", "def register_model(fn):\n    return fn"),
)


def call_with_tokens(module, inputs):
    (x,) = inputs
    size = x.shape[-2:]
    return from_tokens(module(to_tokens(x), *size), size)


def _official(dim, heads, bias, **kw):
    return {
        "dim_in": dim,
        "dim_out": dim,
        "num_heads": heads,
        "qkv_bias": bias,
        "with_cls_token": False,
        **kw,
    }


RECIPE = Recipe(
    module="cvt",
    repo="https://github.com/microsoft/CvT",
    file="lib/models/cls_cvt.py",
    cls="Attention",
    configs=(
        Config(
            "dw-bn-stride2",
            _official(8, 2, True, stride_kv=2),
            {"channels": 8, "num_heads": 2, "qkv_bias": True, "stride_kv": 2},
            ((2, 8, 5, 7),),
        ),
        Config(
            "dw-bn-stride1-four-heads",
            _official(16, 4, False),
            {"channels": 16, "num_heads": 4, "qkv_bias": False, "stride_kv": 1},
            ((2, 16, 4, 3),),
        ),
        Config(
            "avg-stride2",
            _official(8, 1, True, method="avg", stride_kv=2),
            {"channels": 8, "num_heads": 1, "qkv_bias": True, "method": "avg", "stride_kv": 2},
            ((2, 8, 6, 5),),
        ),
    ),
    patches=PATCHES,
    stubs=STUBS,
    call=call_with_tokens,
    note=(
        "timm and torch._six (imported by the file for the network and a tuple helper, not used by Attention) are "
        "stubbed; the relative import of the model registry is replaced by a no-op decorator; einops is real."
    ),
)
