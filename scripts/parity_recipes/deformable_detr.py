"""Deformable DETR's deformable attention against the official ``models/ops/modules/ms_deform_attn.py``
(``MSDeformAttn``) with one level. The official module calls the CUDA extension ``MultiScaleDeformableAttention``;
it is stubbed and the call is patched to the repository's own pure-PyTorch path ``ms_deform_attn_core_pytorch``
(``models/ops/functions/ms_deform_attn_func.py``), which the brief and our module follow. ``call`` turns our
``(N, C, H, W)`` input into the official arguments: the map's tokens as both queries and flattened input, the
reference points at the pixel centres (the formula of ``DeformableTransformerEncoder.get_reference_points``
with valid ratios 1), the spatial shape and level start index of the single level."""

import torch

from cvattn.tokens import from_tokens, to_tokens
from scripts.parity import Config, Recipe


def _call(module, inputs):
    (x,) = inputs
    n, c, h, w = x.shape
    tokens = to_tokens(x)
    ref_y, ref_x = torch.meshgrid(
        torch.linspace(0.5, h - 0.5, h, dtype=x.dtype) / h,
        torch.linspace(0.5, w - 0.5, w, dtype=x.dtype) / w,
        indexing="ij",
    )
    ref = torch.stack([ref_x.reshape(-1), ref_y.reshape(-1)], -1)[None, :, None].expand(n, -1, 1, -1)
    shapes = torch.tensor([[h, w]], dtype=torch.long)
    start = torch.zeros(1, dtype=torch.long)
    return from_tokens(module(tokens, ref, tokens, shapes, start), (h, w))


_IMPORT = "from ..functions import MSDeformAttnFunction"
_PURE_PYTORCH = (
    "import os as _os, sys as _sys\n"
    "_sys.path.insert(0, _os.path.join(_os.path.dirname(_os.path.dirname(__file__)), 'functions'))\n"
    "from ms_deform_attn_func import ms_deform_attn_core_pytorch"
)
_CALL = (
    "MSDeformAttnFunction.apply(\n"
    "            value, input_spatial_shapes, input_level_start_index, sampling_locations, attention_weights,"
    " self.im2col_step)"
)

RECIPE = Recipe(
    module="deformable-detr",
    repo="https://github.com/fundamentalvision/Deformable-DETR",
    file="models/ops/modules/ms_deform_attn.py",
    cls="MSDeformAttn",
    configs=(
        Config(
            "two-heads",
            {"d_model": 16, "n_levels": 1, "n_heads": 2, "n_points": 2},
            {"channels": 16, "num_heads": 2, "num_points": 2},
            ((2, 16, 5, 6),),
        ),
        Config(
            "four-heads-odd",
            {"d_model": 16, "n_levels": 1, "n_heads": 4, "n_points": 3},
            {"channels": 16, "num_heads": 4, "num_points": 3},
            ((1, 16, 7, 9),),
        ),
    ),
    patches=(
        (_IMPORT, _PURE_PYTORCH),
        (
            _CALL,
            "ms_deform_attn_core_pytorch(value, input_spatial_shapes, sampling_locations, attention_weights)",
        ),
    ),
    stubs={"MultiScaleDeformableAttention": ""},
    call=_call,
    note="The CUDA extension MultiScaleDeformableAttention is stubbed; the patched call uses the official "
    "ms_deform_attn_core_pytorch (grid_sample) from the same repository.",
)
