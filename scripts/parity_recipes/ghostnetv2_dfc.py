"""Ghost module with DFC attention against the official ``ghostnetv2_pytorch/model/ghostnetv2_torch.py``
(``GhostModuleV2`` with ``mode='attn'``), built with ``oup == inp`` and stride 1. The official sequential
``short_conv`` (conv, BN, 1x5 conv, BN, 5x1 conv, BN) maps to our three conv-BN stages ``dfc.0-2``; timm's
``register_model``, imported for the network, is stubbed."""

from scripts.parity import Config, Recipe


def _short_conv(match):
    index = int(match.group(1))
    return f"dfc.{index // 2}.{'conv' if index % 2 == 0 else 'bn'}."


RECIPE = Recipe(
    module="ghostnetv2-dfc",
    repo="https://github.com/huawei-noah/Efficient-AI-Backbones",
    file="ghostnetv2_pytorch/model/ghostnetv2_torch.py",
    cls="GhostModuleV2",
    configs=(
        Config(
            "default",
            {"inp": 16, "oup": 16, "mode": "attn"},
            {"channels": 16},
            ((2, 16, 6, 8),),
        ),
        Config(
            "odd-size-k3-ratio3-linear",
            {"inp": 10, "oup": 10, "kernel_size": 3, "ratio": 3, "dw_size": 5, "relu": False, "mode": "attn"},
            {"channels": 10, "kernel_size": 3, "ratio": 3, "dw_size": 5, "relu": False},
            ((2, 10, 9, 7),),
        ),
    ),
    rename=(
        (r"^(primary_conv|cheap_operation)\.0\.", r"ghost.\1.conv."),
        (r"^(primary_conv|cheap_operation)\.1\.", r"ghost.\1.bn."),
        (r"^short_conv\.(\d)\.", _short_conv),
    ),
    stubs={"timm": "", "timm.models": "", "timm.models.registry": "def register_model(fn):\n    return fn\n"},
)
