"""HCGNet's gates (forget gate, multi-scale excitation, update gate) against the official
``models/HCGNet_ImageNet.py`` (``_SMG``) with its squeeze cell replaced by identities; the gated new channels
(the part after the dense concatenation) are compared. Square maps only: the official forward sets
``H = W = x.size(-1)``."""

from torch import nn

from scripts.parity import Config, Recipe

from .hcgnet import DEVIATION, DROP, NOTE, RENAME


def _build(cls, kwargs):
    smg = cls(in_channels=kwargs["growth_rate"], **kwargs)
    smg.conv1_1x1 = nn.Identity()
    smg.conv2_3x3 = nn.Identity()
    return smg


def _call(smg, inputs):
    (x,) = inputs
    return smg(x)[:, x.shape[1] :]


RECIPE = Recipe(
    module="hcgnet-gate",
    repo="https://github.com/winycg/HCGNet",
    file="models/HCGNet_ImageNet.py",
    cls="_SMG",
    configs=(
        Config("default", {"growth_rate": 16}, {"channels": 16}, ((2, 16, 5, 5),)),
        Config(
            "reduction-4",
            {"growth_rate": 16, "reduction_factor": 4, "forget_factor": 4},
            {"channels": 16, "reduction": 4, "forget_reduction": 4},
            ((2, 16, 4, 4),),
        ),
    ),
    rename=RENAME,
    drop=DROP,
    build=_build,
    call=_call,
    deviation_zh="官方 forward 令 H = W = x.size(-1)，遇到非正方形特征图会报错，因此只对正方形输入做对照；本实现使用实际的高和宽。",
    deviation=DEVIATION,
    note=NOTE
    + " The squeeze cell (conv1_1x1, conv2_3x3) is replaced by identities, so the gates see the input.",
)
