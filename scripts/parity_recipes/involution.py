"""Involution against the official ``cls/mmcls/models/utils/involution_naive.py`` (``involution``, the
unfold-based PyTorch path; the CuPy kernel computes the same sum).

The file builds its two 1x1 convs with mmcv's ``ConvModule``; a stub reproduces the part used here (a conv
without bias followed by a BN named ``bn`` and ReLU, or a conv with bias alone).
"""

from scripts.parity import Config, Recipe

_MMCV_CNN = """
from torch import nn


class ConvModule(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, conv_cfg=None, norm_cfg=None,
                 act_cfg=None):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, bias=norm_cfg is None)
        self.with_norm = norm_cfg is not None
        if self.with_norm:
            self.bn = nn.BatchNorm2d(out_channels)
        self.activate = nn.ReLU(inplace=True) if act_cfg is not None else None

    def forward(self, x):
        x = self.conv(x)
        if self.with_norm:
            x = self.bn(x)
        if self.activate is not None:
            x = self.activate(x)
        return x
"""

RECIPE = Recipe(
    module="involution",
    repo="https://github.com/d-li14/involution",
    file="cls/mmcls/models/utils/involution_naive.py",
    cls="involution",
    configs=(
        Config(
            "default",
            {"channels": 16, "kernel_size": 7, "stride": 1},
            {"channels": 16, "kernel_size": 7},
            ((2, 16, 5, 6),),
        ),
        Config(
            "k3-stride2",
            {"channels": 32, "kernel_size": 3, "stride": 2},
            {"channels": 32, "kernel_size": 3, "stride": 2},
            ((2, 32, 6, 8),),
        ),
    ),
    rename=(
        (r"^conv1\.conv\.", "reduce.conv."),
        (r"^conv1\.bn\.", "reduce.bn."),
        (r"^conv2\.conv\.", "span."),
    ),
    stubs={"mmcv": "", "mmcv.cnn": _MMCV_CNN},
    note="mmcv's ConvModule is stubbed by the conv, BN and ReLU it builds in this file.",
)
