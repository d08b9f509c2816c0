"""CaiT's class attention against the official ``cait_models.py`` (``Class_Attention``).

The official class takes ``[x_cls; tokens]`` and returns the updated class token ``(N, 1, C)``; the class token
itself belongs to the CaiT network. ``build`` therefore pairs the official class with a ``cls_token``
parameter, and ``call`` concatenates it with our map's tokens (cvattn.tokens), as CaiT's class-attention block
does, and broadcasts the returned token over the map, which is what our module returns."""

import torch
from torch import nn

from cvattn.tokens import to_tokens
from scripts.parity import Config, Recipe
from scripts.parity_recipes._cait_stubs import STUBS


class _WithClassToken(nn.Module):
    def __init__(self, attn: nn.Module, channels: int) -> None:
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, channels))
        self.attn = attn


def _build(cls, kwargs):
    return _WithClassToken(cls(**kwargs), kwargs["dim"])


def _call(module, inputs):
    (x,) = inputs
    z = torch.cat([module.cls_token.expand(x.size(0), -1, -1), to_tokens(x)], dim=1)
    x_cls = module.attn(z)  # (N, 1, C)
    return x_cls.transpose(1, 2).unsqueeze(-1).expand_as(x)


RECIPE = Recipe(
    module="cait",
    repo="https://github.com/facebookresearch/deit",
    file="cait_models.py",
    cls="Class_Attention",
    configs=(
        Config(
            "default",
            {"dim": 16, "num_heads": 4, "qkv_bias": True},
            {"channels": 16, "num_heads": 4, "qkv_bias": True},
            ((2, 16, 5, 7),),
        ),
        Config(
            "no-bias-two-heads",
            {"dim": 24, "num_heads": 2, "qkv_bias": False},
            {"channels": 24, "num_heads": 2, "qkv_bias": False},
            ((1, 24, 6, 9),),
        ),
    ),
    rename=((r"^attn\.", ""),),
    stubs=STUBS,
    build=_build,
    call=_call,
    deviation=(
        "The official class attention returns the updated class token and takes the class token from the CaiT "
        "network; cvattn holds the class token as its own parameter and returns the token broadcast over the "
        "map (reproduced here by build and call)."
    ),
    deviation_zh=(
        "官方类注意力只返回更新后的类别 token，且类别 token 属于 CaiT 网络本身；cvattn 把类别 token 作为本模块的参数，"
        "并把输出的 token 广播到整张特征图（此处由 build 与 call 复现）。"
    ),
    note="timm (imported by the file for the CaiT network, not used by Class_Attention) is stubbed; the class "
    "token, a parameter of the CaiT network, is added by the recipe's build.",
)
