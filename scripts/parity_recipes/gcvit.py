"""GC ViT's global context attention against the official detection backbone ``detection/models/gc_vit.py``
(``GlobalQueryGen`` with ``FeatExtract``, and ``GCViTBlock`` with ``WindowAttentionGlobal``), the official
version that pads maps to a multiple of the window and resizes the global tokens, so that any size runs.

``build`` pairs a ``GlobalQueryGen`` (its stage and image resolutions chosen to give the configuration's number
of pooling steps) with a ``GCViTBlock``; ``call`` feeds both our map (the block in its ``(N, H, W, C)`` layout,
via cvattn.tokens). The block's LayerNorm is replaced by the identity and one patch ends its ``forward`` after
the windowed attention and the crop, before the residual and the MLP, so that it returns the attention branch,
which is what our module computes. The CUDA-free file imports mmcv/mmdet for registration only: stubbed."""

from torch import nn

from cvattn.tokens import from_channels_last, to_channels_last
from scripts.parity import Config, Recipe

from ._common import TIMM_LAYERS

_BUILDER = """
class _Registry:
    def register_module(self, *args, **kwargs):
        return lambda cls: cls
BACKBONES = _Registry()
"""

# (stage resolution, image resolution) that make GlobalQueryGen build 0, 1 or 2 pooling FeatExtract steps
_RESOLUTIONS = {0: (4, 128), 1: (5, 80), 2: (8, 64)}


def _build(cls, kwargs):
    official = cls.__init__.__globals__
    dim, heads, window = kwargs["dim"], kwargs["num_heads"], kwargs["window_size"]
    stage, image = _RESOLUTIONS[kwargs["num_pools"]]
    wrapper = nn.Module()
    wrapper.q_global_gen = official["GlobalQueryGen"](dim, stage, image, window, heads)
    wrapper.block = cls(
        dim=dim,
        input_resolution=stage,
        num_heads=heads,
        window_size_pre=window,
        window_size=window,
        qkv_bias=kwargs["qkv_bias"],
        attention=official["WindowAttentionGlobal"],
        use_rel_pos_bias=True,
    )
    wrapper.block.norm1 = nn.Identity()
    return wrapper


def _call(module, inputs):
    (x,) = inputs
    q_global = module.q_global_gen(x)
    return from_channels_last(module.block(to_channels_last(x), q_global))


def _cfg(name, dim, heads, window, pools, bias, shape):
    official = {"dim": dim, "num_heads": heads, "window_size": window, "num_pools": pools, "qkv_bias": bias}
    ours = {"channels": dim, "num_heads": heads, "window_size": window, "num_pools": pools, "qkv_bias": bias}
    return Config(name, official, ours, (shape,))


RECIPE = Recipe(
    module="gcvit",
    repo="https://github.com/NVlabs/GCVit",
    file="detection/models/gc_vit.py",
    cls="GCViTBlock",
    configs=(
        _cfg("one-pool-padded", 16, 2, 3, 1, True, (2, 16, 5, 7)),
        _cfg("no-pool-resized-no-bias", 16, 2, 2, 0, False, (1, 16, 4, 5)),
        _cfg("two-pools", 16, 2, 2, 2, True, (1, 16, 8, 8)),
    ),
    rename=(
        (r"^q_global_gen\.to_q_global\.", "q_global."),
        (r"^block\.attn\.qkv\.", "kv."),
        (r"^block\.attn\.", ""),
    ),
    drop=(r"relative_position_index$", r"^block\.(norm2|mlp)\."),
    patches=(
        (
            "        x = shortcut + self.drop_path(self.gamma1 * x)\n"
            "        x = x + self.drop_path(self.gamma2 * self.mlp(self.norm2(x)))\n"
            "        return x\n",
            "        return x\n",
        ),
    ),
    stubs={
        "timm": "",
        "timm.models": "",
        "timm.models.layers": TIMM_LAYERS,
        "mmcv": "",
        "mmcv.runner": "def load_checkpoint(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
        "mmdet": "",
        "mmdet.models": "",
        "mmdet.models.builder": _BUILDER,
        "mmdet.utils": "def get_root_logger(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
    },
    build=_build,
    call=_call,
    deviation=(
        "cvattn holds its global query generator and feeds it the same map as the keys and values, whereas the "
        "official block feeds the generator the stage input and the keys and values its LayerNorm; the number of "
        "pooling steps is an argument instead of following from the stage and image resolutions. The "
        "classification model (models/gc_vit.py) neither pads nor resizes and accepts only maps of M 2^k."
    ),
    deviation_zh=(
        "cvattn 自带全局查询生成器，并让它与键、值读取同一张特征图；官方模块中生成器读取阶段输入，键和值来自其 LayerNorm 之后的结果。"
        "池化步数由参数指定，而不是由阶段分辨率与图像分辨率推算。分类模型（models/gc_vit.py）既不填充也不缩放，只接受 M·2^k 大小的特征图。"
    ),
    note="The block's norm1 is the identity and its MLP branch (norm2, mlp: dropped keys) is cut off by the "
    "patch; relative_position_index is a buffer we rebuild (dropped); timm, mmcv and mmdet are stubbed.",
)
