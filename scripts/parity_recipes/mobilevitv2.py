"""MobileViTv2 block against the official ``cvnets/modules/mobilevit_block.py`` (``MobileViTBlockv2``) of
apple/ml-cvnets. The official class takes the command-line ``opts`` namespace first: ``build`` passes one with
the MobileViTv2 ImageNet settings (batch norm with momentum 0.1, swish activations). Both take ``(N, C, H, W)``.
Configurations: the models' 2x2 patches on a divisible map, a 3x2 patch with one layer and a dilated local
convolution, and a map that is no multiple of the patch: there the official block returns the larger resized
map (the documented deviation), which ``call`` resizes back to the input's size as our module does, so that
everything else is compared."""

import argparse

import torch.nn.functional as F

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


def _call(module, inputs):
    """The official output, resized back to the input's size as ours is (a no-op for a multiple of the patch)."""
    (x,) = inputs
    y = module(x)
    if y.shape[-2:] == x.shape[-2:]:
        return y
    return F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=True)


RECIPE = Recipe(
    module="mobilevitv2",
    repo="https://github.com/apple/ml-cvnets",
    file="cvnets/modules/mobilevit_block.py",
    cls="MobileViTBlockv2",
    configs=(
        Config(
            "default",
            {"in_channels": 8, "attn_unit_dim": 8, "n_attn_blocks": 2, "patch_h": 2, "patch_w": 2},
            {"channels": 8, "attn_dim": 8, "num_layers": 2},
            ((2, 8, 6, 8),),
        ),
        Config(
            "patch-3x2-dilated",
            {
                "in_channels": 6,
                "attn_unit_dim": 16,
                "ffn_multiplier": 1.0,
                "n_attn_blocks": 1,
                "patch_h": 3,
                "patch_w": 2,
                "dilation": 2,
            },
            {
                "channels": 6,
                "attn_dim": 16,
                "ffn_multiplier": 1.0,
                "num_layers": 1,
                "patch_size": (3, 2),
                "dilation": 2,
            },
            ((1, 6, 9, 8),),
        ),
        Config(
            "resized-non-square",
            {"in_channels": 6, "attn_unit_dim": 8, "n_attn_blocks": 1, "patch_h": 2, "patch_w": 2},
            {"channels": 6, "attn_dim": 8, "num_layers": 1},
            ((1, 6, 7, 9),),
        ),
    ),
    rename=(
        (r"^local_rep\.0\.block\.conv\.", "conv_kxk.conv."),
        (r"^local_rep\.0\.block\.norm\.", "conv_kxk.bn."),
        (r"^local_rep\.1\.block\.conv\.", "conv_1x1."),
        (r"^global_rep\.(\d+)\.(weight|bias)$", r"norm.\2"),
        (r"^global_rep\.(\d+)\.pre_norm_attn\.0\.", r"layers.\1.norm1."),
        (r"^global_rep\.(\d+)\.pre_norm_attn\.1\.qkv_proj\.block\.conv\.", r"layers.\1.attn.qkv."),
        (r"^global_rep\.(\d+)\.pre_norm_attn\.1\.out_proj\.block\.conv\.", r"layers.\1.attn.proj."),
        (r"^global_rep\.(\d+)\.pre_norm_ffn\.0\.", r"layers.\1.norm2."),
        (r"^global_rep\.(\d+)\.pre_norm_ffn\.1\.block\.conv\.", r"layers.\1.fc1."),
        (r"^global_rep\.(\d+)\.pre_norm_ffn\.3\.block\.conv\.", r"layers.\1.fc2."),
        (r"^conv_proj\.block\.conv\.", "conv_proj.conv."),
        (r"^conv_proj\.block\.norm\.", "conv_proj.bn."),
    ),
    stubs={
        "torchvision": "",
        "torchvision.ops": "class StochasticDepth:\n    pass\nclass MultiScaleRoIAlign:\n    pass\n"
        "def batched_nms(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
        "torchvision.ops.roi_align": "class RoIAlign:\n    pass\n",
    },
    build=_build,
    call=_call,
    deviation_zh="当输入尺寸不是图块大小的整数倍时，官方模块返回放大到下一个整数倍的特征图；本实现会把输出（双线性插值，角点对齐）"
    "缩放回输入尺寸。",
    deviation="For a size that is no multiple of the patch, the official block returns the map resized up to the "
    "next multiple; ours resizes the output back to the input's size (bilinear, corners aligned).",
    note="torchvision (imported by other cvnets layers and heads, not by the MobileViTv2 block) is stubbed; the "
    "official ``opts`` carries the MobileViTv2 ImageNet normalisation and activation settings.",
)
