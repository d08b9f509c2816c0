"""Shared parts of the CrossFormer SDA/LDA recipes (the official ``models/crossformer.py``, ``CrossFormerBlock``).

The grouping, padding and mask live in the official block, so the block is run with its LayerNorm replaced by
the identity, no extra convolution, and one patch that returns right after the attention, the ungrouping and
the crop, before the residual and the MLP (their keys are dropped). ``call`` feeds it our map as ``(N, HW, C)``
tokens via cvattn.tokens and folds the result back."""

from torch import nn

from cvattn.tokens import from_tokens, to_tokens
from scripts.parity import Config

FILE = "models/crossformer.py"
REPO = "https://github.com/cheerss/CrossFormer"

TIMM_LAYERS = """
def DropPath(*args, **kwargs):
    raise NotImplementedError('stub')
def to_2tuple(x):
    return (x, x)
def trunc_normal_(tensor, *args, **kwargs):
    return tensor
"""

STUBS = {"timm": "", "timm.models": "", "timm.models.layers": TIMM_LAYERS}

PATCHES = (
    (
        "        x = x.view(B, H * W, C)\n\n        # FFN\n",
        "        x = x.view(B, H * W, C)\n        return x\n\n        # FFN\n",
    ),
)

RENAME = ((r"^attn\.", ""),)
DROP = (r"^(norm2|mlp)\.",)
DEVIATION = (
    "The padding and mask are computed from each input instead of from a resolution fixed at construction, and "
    "cvattn always groups with G (and I) and pads, whereas the official block falls back to one short-distance "
    "window of min(H, W) when the map is no larger than a group."
)
DEVIATION_ZH = (
    "填充与掩码按每个输入计算，而不是由构造时固定的分辨率决定；cvattn 始终按 G（与 I）分组并填充，官方模块在特征图不大于一组时"
    "则退化为一个 min(H, W) 大小的短距离窗口。"
)
NOTE = (
    "The block's norm1 is the identity, use_extra_conv is off and the MLP branch (norm2, mlp: dropped keys) is cut "
    "off by the patch; timm is stubbed. The padding and padded-key mask are those of the repository's current "
    "code (updated with CrossFormer++); the ICLR release (commit f20000d) had none and needed divisible sizes, "
    "with the same Attention and DynamicPosBias."
)


def build(cls, kwargs):
    block = cls(**kwargs, use_extra_conv=False)
    block.norm1 = nn.Identity()
    return block


def call(module, inputs):
    (x,) = inputs
    return from_tokens(module(to_tokens(x)), x.shape[-2:])


def config(name, lda, dim, heads, group, interval, bias, shape):
    official = {
        "dim": dim,
        "input_resolution": shape[-2:],
        "num_heads": heads,
        "group_size": group,
        "interval": interval,
        "lsda_flag": int(lda),
        "qkv_bias": bias,
    }
    ours = {"channels": dim, "num_heads": heads, "group_size": group, "qkv_bias": bias}
    if lda:
        ours["interval"] = interval
    return Config(name, official, ours, (shape,))
