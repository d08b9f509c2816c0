"""RNAN's residual (non-local) attention block against the official ``DN_RGB/code/model/common.py``
(``NLResAttModuleDownUpPlus``, and ``ResAttModuleDownUpPlus`` for the local block), built with the official
``default_conv``: pre residual block, trunk branch, (non-local) mask branch, residual attention, tail."""

import sys

from scripts.parity import Config, Recipe


def _build(cls, kwargs):
    official = sys.modules[cls.__module__]
    kwargs = dict(kwargs)
    if kwargs.pop("local", False):
        cls = official.ResAttModuleDownUpPlus
    return cls(official.default_conv, **kwargs)


RECIPE = Recipe(
    module="rnan",
    repo="https://github.com/yulunzhang/RNAN",
    file="DN_RGB/code/model/common.py",
    cls="NLResAttModuleDownUpPlus",
    configs=(
        Config("non-local", {"n_feat": 4, "kernel_size": 3}, {"channels": 4}, ((2, 4, 6, 8),)),
        Config(
            "local",
            {"n_feat": 4, "kernel_size": 3, "local": True},
            {"channels": 4, "non_local": False},
            ((2, 4, 6, 6),),
        ),
    ),
    rename=(
        (r"^RA_RB1\.", "pre."),
        (r"^RA_TB\.0\.body\.", "trunk."),
        (r"^RA_tail\.", "post."),
        (r"^RA_MB\.0\.MB_RB1\.0\.(g|theta|phi|W)\.", r"mask.non_local.\1."),
        (r"^RA_MB\.0\.MB_RB1\.\d\.", "mask.rb1."),
        (r"^RA_MB\.0\.MB_Down\.0\.", "mask.down."),
        (r"^RA_MB\.0\.MB_RB2\.", "mask.rb2."),
        (r"^RA_MB\.0\.MB_Up\.0\.", "mask.up."),
        (r"^RA_MB\.0\.MB_RB3\.0\.", "mask.rb3."),
        (r"^RA_MB\.0\.MB_1x1conv\.0\.", "mask.conv1x1."),
        (r"body\.0\.", "conv1."),
        (r"body\.2\.", "conv2."),
    ),
    build=_build,
    deviation_zh="官方模块只适用于高和宽均为偶数的输入（否则上采样后的掩码特征与跳连尺寸不一致），因此只对偶数尺寸做对照；本实现对奇数尺寸会裁剪对齐。",
    deviation=(
        "The official block works only for even heights and widths (its upsampled mask features do not fit "
        "the skip otherwise), so only even sizes are compared; ours crops them for odd sizes."
    ),
    note=(
        "The 'local' configuration builds the official ResAttModuleDownUpPlus (the RAB) from the same file. "
        "Only even heights and widths are recorded: for odd sizes the official mask branch's upsampled "
        "features are one row or column larger than the skip and the addition fails (ours crops them)."
    ),
)
