"""OCNet's Base-OC against the official ``oc_module/base_oc_block.py`` (``BaseOC_Module``, one stage of size 1,
as ``network/resnet101_base_oc.py`` builds it). The file imports its CUDA ``InPlaceABNSync`` only under PyTorch
0.3/0.4; a stub gives the same computation on CPU (BatchNorm followed by leaky ReLU with slope 0.01, the
repository's own ``ABN`` semantics in ``inplace_abn/bn.py``)."""

from scripts.parity import Config, Recipe

_INPLACE_ABN = """
import torch.nn.functional as F
from torch import nn


class InPlaceABNSync(nn.BatchNorm2d):
    def forward(self, x):
        return F.leaky_relu(super().forward(x), negative_slope=0.01)
"""

RECIPE = Recipe(
    module="ocnet",
    repo="https://github.com/openseg-group/OCNet.pytorch",
    file="oc_module/base_oc_block.py",
    cls="BaseOC_Module",
    configs=(
        Config(
            "default",
            {
                "in_channels": 16,
                "out_channels": 16,
                "key_channels": 8,
                "value_channels": 8,
                "dropout": 0.05,
                "sizes": [1],
            },
            {"channels": 16},
            ((2, 16, 5, 7),),
        ),
        Config(
            "narrow-key",
            {
                "in_channels": 12,
                "out_channels": 12,
                "key_channels": 4,
                "value_channels": 6,
                "dropout": 0.1,
                "sizes": [1],
            },
            {"channels": 12, "key_channels": 4, "value_channels": 6, "dropout": 0.1},
            ((1, 12, 6, 9),),
        ),
    ),
    rename=(
        (r"^stages\.0\.f_key\.0\.", "f_key.conv."),
        (r"^stages\.0\.f_key\.1\.", "f_key.bn."),
        (r"^stages\.0\.", ""),
        (r"^conv_bn_dropout\.0\.", "fuse.conv."),
        (r"^conv_bn_dropout\.1\.", "fuse.bn."),
    ),
    drop=(r"^stages\.0\.f_query\.",),
    patches=(
        (
            "torch_ver = torch.__version__[:3]",
            "torch_ver = torch.__version__[:3]\nfrom inplace_abn_cpu import InPlaceABNSync",
        ),
    ),
    stubs={"inplace_abn_cpu": _INPLACE_ABN},
    note=(
        "InPlaceABNSync (a CUDA extension, imported only under PyTorch 0.3/0.4) is stubbed by BatchNorm2d "
        "followed by leaky ReLU (slope 0.01), its documented computation. The official f_query is the very "
        "module f_key (its state-dict entries are dropped as duplicates) and runs twice per forward pass, so "
        "its BatchNorm's running statistics are updated twice per training step (documented); running "
        "statistics are therefore not compared (compare_buffers=False). Train mode draws the same Dropout2d "
        "mask in both (same seed, same shape)."
    ),
    compare_buffers=False,
)
