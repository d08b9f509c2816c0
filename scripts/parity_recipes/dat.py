"""DAT's deformable attention against the official ``models/dat_blocks.py`` (``DAttentionBaseline``) at the CVPR
2022 version of the repository (commit 7edbb9b, before the DAT++ update). The official forward returns
``(y, pos, reference)``; ``call`` keeps ``y``. Its bias lookup reshapes the table to the input size, so every
configuration runs at its ``fmap_size``. Bounded offsets with the bias, stride 2 with unbounded (tanh) offsets,
and no bias."""

from scripts.parity import Config, Recipe

# einops is not installed here: a stub that performs exactly the four rearrangements the file uses
_EINOPS = """
def rearrange(x, pattern, **sizes):
    if pattern == 'b (g c) h w -> (b g) c h w':
        b, _, h, w = x.shape
        return x.reshape(b * sizes['g'], sizes['c'], h, w)
    if pattern in ('b p h w -> b h w p', 'b c h w -> b h w c'):
        return x.permute(0, 2, 3, 1)
    if pattern == 'b h w c -> b c h w':
        return x.permute(0, 3, 1, 2)
    raise NotImplementedError(pattern)
"""

_TIMM_LAYERS = """
def to_2tuple(x):
    return (x, x)
def trunc_normal_(tensor, *args, **kwargs):
    return tensor
"""


def _official(c, heads, groups, size, stride, factor, use_pe, stage):
    return {
        "q_size": size,
        "kv_size": size,
        "n_heads": heads,
        "n_head_channels": c // heads,
        "n_groups": groups,
        "attn_drop": 0.0,
        "proj_drop": 0.0,
        "stride": stride,
        "offset_range_factor": factor,
        "use_pe": use_pe,
        "dwc_pe": False,
        "no_off": False,
        "fixed_pe": False,
        "stage_idx": stage,
    }


def _call(module, inputs):
    return module(*inputs)[0]


RECIPE = Recipe(
    module="dat",
    repo="https://github.com/LeapLabTHU/DAT",
    file="models/dat_blocks.py",
    cls="DAttentionBaseline",
    configs=(
        Config(
            "bias-bounded",
            _official(16, 4, 2, (5, 6), 1, 2, True, 2),
            {"channels": 16, "num_heads": 4, "num_groups": 2, "fmap_size": (5, 6), "kernel_size": 5},
            ((2, 16, 5, 6),),
        ),
        Config(
            "stride-2-tanh",
            _official(16, 2, 1, (5, 7), 2, -1, True, 3),
            {
                "channels": 16,
                "num_heads": 2,
                "num_groups": 1,
                "fmap_size": (5, 7),
                "kernel_size": 3,
                "stride": 2,
                "offset_range_factor": -1,
            },
            ((1, 16, 5, 7),),
        ),
        Config(
            "no-bias",
            _official(8, 4, 4, (6, 6), 1, 3, False, 1),
            {
                "channels": 8,
                "num_heads": 4,
                "num_groups": 4,
                "fmap_size": 6,
                "kernel_size": 7,
                "offset_range_factor": 3,
                "use_pe": False,
            },
            ((2, 8, 6, 6),),
        ),
    ),
    rename=(
        (r"^conv_offset\.0\.", "offset_dw."),
        (r"^conv_offset\.1\.norm\.", "offset_norm."),
        (r"^conv_offset\.3\.", "offset_pw."),
    ),
    stubs={"einops": _EINOPS, "timm": "", "timm.models": "", "timm.models.layers": _TIMM_LAYERS},
    call=_call,
    note="einops and timm are stubbed (einops by the four rearrangements the file uses). The official code builds "
    "the offset range as a float32 tensor, so float64 runs agree to ~1e-9, not to rounding.",
)
