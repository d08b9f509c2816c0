"""CPCA against the official ``CPCANet/nnunet/network_architecture/CPCANet.py`` (``RepBlock``, which holds the
channel attention ``ca`` and the multi-scale depthwise convolutions). The file imports nnU-Net, timm, thop
and einops for the rest of CPCANet; they are stubbed (RepBlock uses none of them)."""

from scripts.parity import Config, Recipe

from ._common import TIMM_LAYERS

_STRIPS = {"1_7": "0.0", "7_1": "0.1", "1_11": "1.0", "11_1": "1.1", "1_21": "2.0", "21_1": "2.1"}

_NN = """
from torch import nn
class SegmentationNetwork(nn.Module):
    pass
"""

RECIPE = Recipe(
    module="cpca",
    repo="https://github.com/Cuthbert-Huang/CPCANet",
    file="CPCANet/nnunet/network_architecture/CPCANet.py",
    cls="RepBlock",
    configs=(
        Config("default", {"in_channels": 16, "out_channels": 16}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config(
            "reduction-8",
            {"in_channels": 24, "out_channels": 24, "channelAttention_reduce": 8},
            {"channels": 24, "reduction": 8},
            ((1, 24, 9, 6),),
        ),
    ),
    rename=(
        (r"^ca\.", ""),
        (r"^conv\.", "proj."),
        (r"^dconv5_5\.", "dw5x5."),
        (r"^dconv(\d+_\d+)\.", lambda m: f"strips.{_STRIPS[m.group(1)]}."),
    ),
    stubs={
        "einops": "def rearrange(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
        "nnunet": "",
        "nnunet.utilities": "",
        "nnunet.utilities.nd_softmax": "def softmax_helper(x):\n    raise NotImplementedError('stub')\n",
        "nnunet.network_architecture": "",
        "nnunet.network_architecture.initialization": "class InitWeights_He:\n    pass\n",
        "nnunet.network_architecture.neural_network": _NN,
        "nnunet.network_configuration": "",
        "nnunet.network_configuration.config": "CONFIGS = {}\n",
        "timm": "",
        "timm.models": "",
        "timm.models.layers": TIMM_LAYERS + "def to_3tuple(x):\n    return (x, x, x)\n",
        "thop": "def profile(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
    },
    note="nnU-Net, timm, thop and einops (imported for CPCANet, not used by RepBlock) are stubbed.",
)
