"""X-ViT space-time mixing attention against the official code (1adrianb/video-transformers): the ViT
``Attention`` of ``slowfast/models/transformers/transformer_block.py`` built with its control points, and the
``TemporalShift`` of ``slowfast/models/temporal_shift.py`` put on its keys and values, as ``make_temporal_shift``
does for every block of the Kinetics models. The recipe imports ``temporal_shift.py`` (whose relative import of
the whole ViT is replaced by loading ``transformer_block.py`` from the same checkout); ``build`` wraps the keys and
values; ``call`` feeds the clip as ``(N*T, H*W, C)`` frames of tokens, as the official model does."""

import sys

from cvattn.clips import from_frames, to_frames
from cvattn.tokens import from_tokens, to_tokens
from scripts.parity import Config, Recipe

STUBS = {
    "timm": "",
    "timm.models": "",
    "timm.models.layers": "def DropPath(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
}

LOAD_BLOCK = """import importlib.util as _util
import pathlib as _pathlib
_spec = _util.spec_from_file_location(
    "_xvit_transformer_block", _pathlib.Path(__file__).parent / "transformers" / "transformer_block.py"
)
_block = _util.module_from_spec(_spec)
_spec.loader.exec_module(_block)
Attention = _block.Attention"""

PATCHES = (("from .transformers import VisionTransformer", LOAD_BLOCK),)


def build_mixing_attention(cls, kwargs):
    kwargs = dict(kwargs)
    frames, div = kwargs.pop("n_segment"), kwargs.pop("n_div")
    attn = sys.modules[cls.__module__].Attention(insert_control_point=True, **kwargs)
    # as make_temporal_shift: the "query" control point is applied to the keys
    attn.control_point_query = cls(attn.control_point_query, n_segment=frames, n_div=div)
    attn.control_point_value = cls(attn.control_point_value, n_segment=frames, n_div=div)
    return attn


def call_on_frames(module, inputs):
    (x,) = inputs
    t, h, w = x.shape[2:]
    out = module(to_tokens(to_frames(x)))  # (N*T, HW, C)
    return from_frames(from_tokens(out, (h, w)), t)


RECIPE = Recipe(
    module="xvit",
    repo="https://github.com/1adrianb/video-transformers",
    file="slowfast/models/temporal_shift.py",
    cls="TemporalShift",
    configs=(
        Config(
            "default",
            {"dim": 16, "num_heads": 2, "qkv_bias": True, "n_segment": 4, "n_div": 8},
            {"channels": 16, "num_heads": 2},
            ((2, 16, 4, 3, 5),),
        ),
        Config(
            "ssv2-div-4",
            {"dim": 24, "num_heads": 3, "qkv_bias": True, "n_segment": 3, "n_div": 4},
            {"channels": 24, "num_heads": 3, "shift_div": 4},
            ((1, 24, 3, 4, 4),),
        ),
        Config(
            "no-qkv-bias-scale",
            {"dim": 16, "num_heads": 4, "qkv_bias": False, "qk_scale": 0.3, "n_segment": 5, "n_div": 8},
            {"channels": 16, "num_heads": 4, "qkv_bias": False, "qk_scale": 0.3},
            ((1, 16, 5, 2, 3),),
        ),
    ),
    patches=PATCHES,
    stubs=STUBS,
    build=build_mixing_attention,
    call=call_on_frames,
    note=(
        "timm (imported for DropPath) is stubbed; temporal_shift.py's relative import of the whole ViT is "
        "replaced by loading transformer_block.py from the same checkout; `build` puts TemporalShift on the "
        "keys and values with the clip's frame count as n_segment."
    ),
)
