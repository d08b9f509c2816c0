"""Agent attention against the official any-resolution ``AgentAttention`` of the detection backbone
(``downstream/detection/mmdet/models/backbones/agent_swin.py``): the official takes ``(N, HW, C)`` tokens, a mask
(unused) and ``hw_shape``; ``call`` feeds it our ``(N, C, H, W)`` input as tokens and folds the output back.
Configurations at the bias resolution (the classification case), on a non-square map that resizes the biases,
and with an agent grid different from the learnt one."""

from cvattn.tokens import from_tokens, to_tokens
from scripts.parity import Config, Recipe

from ._common import TIMM_LAYERS

_MMDET = """
class _Registry:
    def register_module(self, *args, **kwargs):
        return lambda cls: cls
BACKBONES = _Registry()
def get_root_logger(*args, **kwargs):
    raise NotImplementedError('stub')
"""


def _call(module, inputs):
    (x,) = inputs
    size = tuple(x.shape[2:])
    return from_tokens(module(to_tokens(x), None, size), size)


def _official(dim, heads, res, agents, shape):
    return {
        "dim": dim,
        "input_resolution": res,
        "window_size": res,
        "num_heads": heads,
        "agent_num": agents,
        "downstream_agent_shape": shape,
    }


RECIPE = Recipe(
    module="agent-attention",
    repo="https://github.com/LeapLabTHU/Agent-Attention",
    file="downstream/detection/mmdet/models/backbones/agent_swin.py",
    cls="AgentAttention",
    configs=(
        Config(
            "at-resolution",
            _official(8, 2, (6, 6), 4, (2, 2)),
            {"channels": 8, "num_heads": 2, "resolution": 6, "agent_num": 4},
            ((2, 8, 6, 6),),
        ),
        Config(
            "non-square-resized",
            _official(16, 2, (6, 6), 9, (3, 3)),
            {"channels": 16, "num_heads": 2, "resolution": 6, "agent_num": 9},
            ((1, 16, 5, 9),),
        ),
        Config(
            "agent-grid-resized",
            _official(12, 2, (4, 5), 9, (2, 3)),
            {"channels": 12, "num_heads": 2, "resolution": (4, 5), "agent_num": 9, "agent_shape": (2, 3)},
            ((1, 12, 7, 6),),
        ),
    ),
    patches=(
        ("from ..builder import BACKBONES", "from _mmdet_stub import BACKBONES"),
        ("from ...utils import get_root_logger", "from _mmdet_stub import get_root_logger"),
    ),
    stubs={
        "timm": "",
        "timm.models": "",
        "timm.models.layers": TIMM_LAYERS,
        "mmcv": "",
        "mmcv.runner": "def _load_checkpoint(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
        "_mmdet_stub": _MMDET,
    },
    call=_call,
    note="timm, mmcv and the mmdet registry (imported by the file for the backbone, not used by "
    "AgentAttention) are stubbed; the relative mmdet imports are redirected to the stub.",
)
