"""MobileViT block against the official ``cvnets/modules/mobilevit_block.py`` (``MobileViTBlock``) of
apple/ml-cvnets. The official class takes the command-line ``opts`` namespace first: ``build`` passes one with
the MobileViT ImageNet settings (batch norm with momentum 0.1, swish activations). Both take ``(N, C, H, W)``.
Configurations: the model's 2x2 patches on a divisible map, a non-square map that is not a multiple of the patch
(bilinear resize up and back), one head without fusion, and a 3x2 patch with dilation."""

import argparse

from scripts.parity import Config, Recipe

_OPTS = {
    "model.normalization.name": "batch_norm",
    "model.normalization.momentum": 0.1,
    "model.normalization.groups": 1,
    "model.activation.name": "swish",
    "model.activation.inplace": False,
    "model.activation.neg_slope": 0.1,
}


def _build(cls, kwargs):
    return cls(argparse.Namespace(**_OPTS), **kwargs)


def _official(c, d, ffn, blocks, head_dim, ph, pw, **extra):
    return {
        "in_channels": c,
        "transformer_dim": d,
        "ffn_dim": ffn,
        "n_transformer_blocks": blocks,
        "head_dim": head_dim,
        "patch_h": ph,
        "patch_w": pw,
        **extra,
    }


_WHY = (
    "the official MultiHeadAttention computes its softmax in float32 (``attn.float()``) even on float64 input, "
    "so outputs agree to ~1e-7 and input gradients to ~3e-6; the single-head configuration, whose official "
    "SingleHeadAttention has no cast, agrees to 1e-14"
)

RECIPE = Recipe(
    module="mobilevit",
    repo="https://github.com/apple/ml-cvnets",
    file="cvnets/modules/mobilevit_block.py",
    cls="MobileViTBlock",
    configs=(
        Config(
            "default",
            _official(6, 8, 16, 2, 2, 2, 2),
            {"channels": 6, "transformer_dim": 8, "ffn_dim": 16, "num_layers": 2, "num_heads": 4},
            ((2, 6, 4, 10),),
            tolerance=1e-5,
            why=_WHY,
        ),
        Config(
            "non-square-resized",
            _official(8, 8, 16, 1, 2, 2, 2),
            {"channels": 8, "transformer_dim": 8, "ffn_dim": 16, "num_layers": 1, "num_heads": 4},
            ((1, 8, 7, 9),),
            tolerance=1e-5,
            why=_WHY,
        ),
        Config(
            "one-head-no-fusion",
            _official(6, 8, 16, 2, 8, 2, 2, no_fusion=True),
            {
                "channels": 6,
                "transformer_dim": 8,
                "ffn_dim": 16,
                "num_layers": 2,
                "num_heads": 1,
                "fusion": False,
            },
            ((1, 6, 6, 6),),
        ),
        Config(
            "patch-3x2-dilated",
            _official(4, 8, 16, 1, 4, 3, 2, dilation=2, conv_ksize=5),
            {
                "channels": 4,
                "transformer_dim": 8,
                "ffn_dim": 16,
                "num_layers": 1,
                "num_heads": 2,
                "patch_size": (3, 2),
                "dilation": 2,
                "kernel_size": 5,
            },
            ((1, 4, 8, 7),),
            tolerance=1e-5,
            why=_WHY,
        ),
    ),
    rename=(
        (r"^local_rep\.conv_3x3\.block\.conv\.", "conv_kxk.conv."),
        (r"^local_rep\.conv_3x3\.block\.norm\.", "conv_kxk.bn."),
        (r"^local_rep\.conv_1x1\.block\.conv\.", "conv_1x1."),
        (r"^global_rep\.(\d+)\.(weight|bias)$", r"norm.\2"),
        (r"^global_rep\.(\d+)\.pre_norm_mha\.0\.", r"transformer.\1.norm1."),
        (r"^global_rep\.(\d+)\.pre_norm_mha\.1\.qkv_proj\.", r"transformer.\1.qkv."),
        (r"^global_rep\.(\d+)\.pre_norm_mha\.1\.out_proj\.", r"transformer.\1.proj."),
        (r"^global_rep\.(\d+)\.pre_norm_ffn\.0\.", r"transformer.\1.norm2."),
        (r"^global_rep\.(\d+)\.pre_norm_ffn\.1\.", r"transformer.\1.fc1."),
        (r"^global_rep\.(\d+)\.pre_norm_ffn\.4\.", r"transformer.\1.fc2."),
        (r"^(conv_proj|fusion)\.block\.conv\.", r"\1.conv."),
        (r"^(conv_proj|fusion)\.block\.norm\.", r"\1.bn."),
    ),
    stubs={
        "torchvision": "",
        "torchvision.ops": "class StochasticDepth:\n    pass\nclass MultiScaleRoIAlign:\n    pass\n"
        "def batched_nms(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
        "torchvision.ops.roi_align": "class RoIAlign:\n    pass\n",
    },
    build=_build,
    note="torchvision (imported by other cvnets layers and heads, not by the MobileViT block) is stubbed; the "
    "official ``opts`` carries the MobileViT ImageNet normalisation and activation settings.",
)
