"""RepViT block against the official ``model/repvit.py`` (``RepViTBlock``): training form and fused form.

Stride 1 with SE (RepVGG-style depth-wise token mixer), stride 1 without SE, stride 2 with SE (down-sampling
form, 5x5 kernel, new width), and both strides after the official fusion (every ``fuse()`` applied as
``utils.replace_batchnorm`` does). The official classes are wrapped in a one-entry ``nn.Sequential`` named
``s1`` or ``s2`` by stride, because the key ``token_mixer.0.bn`` means the depth-wise unit's last BN at stride 1
and the depth-wise conv's BN at stride 2.
"""

from collections import OrderedDict
from typing import Any

from torch import nn

from scripts.parity import Config, Recipe

# timm 0.5.4 (RepViT's pinned version), timm/models/layers/squeeze_excite.py: SqueezeExcite = SEModule, with
# rd_channels = make_divisible(channels * rd_ratio, 8, round_limit=0.), ReLU, no norm, sigmoid gate.
TIMM_LAYERS = """
from torch import nn


def _make_divisible(v, divisor=8, min_value=None, round_limit=.9):
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < round_limit * v:
        new_v += divisor
    return new_v


class SqueezeExcite(nn.Module):
    def __init__(self, channels, rd_ratio=1. / 16):
        super().__init__()
        rd_channels = _make_divisible(channels * rd_ratio, 8, round_limit=0.)
        self.fc1 = nn.Conv2d(channels, rd_channels, kernel_size=1, bias=True)
        self.bn = nn.Identity()
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(rd_channels, channels, kernel_size=1, bias=True)
        self.gate = nn.Sigmoid()

    def forward(self, x):
        x_se = x.mean((2, 3), keepdim=True)
        x_se = self.fc1(x_se)
        x_se = self.act(self.bn(x_se))
        x_se = self.fc2(x_se)
        return x * self.gate(x_se)
"""

STUBS = {
    "timm": "",
    "timm.models": "def register_model(fn):\n    return fn\n",
    "timm.models.layers": TIMM_LAYERS,
    "timm.models.vision_transformer": "def trunc_normal_(tensor, *args, **kwargs):\n    return tensor\n",
}


def _replace_batchnorm(net: nn.Module) -> None:
    """The official ``utils.replace_batchnorm``: every child with ``fuse()`` replaced by its result."""
    for name, child in net.named_children():
        if hasattr(child, "fuse"):
            fused = child.fuse()
            setattr(net, name, fused)
            _replace_batchnorm(fused)
        elif isinstance(child, nn.BatchNorm2d):
            setattr(net, name, nn.Identity())
        else:
            _replace_batchnorm(child)


def build(cls: Any, kwargs: dict[str, Any]) -> nn.Module:
    kwargs = dict(kwargs)
    fused = kwargs.pop("fused", False)
    block = cls(**kwargs)
    if fused:
        _replace_batchnorm(block)
    return nn.Sequential(OrderedDict([(f"s{kwargs['stride']}", block)]))


def se_as_linear(name: str, value: Any) -> Any:
    if name.startswith("se.fc") and name.endswith(".weight"):
        return value[:, :, 0, 0]
    return value


def _official(inp, oup, k, stride, use_se, fused=False):
    hidden = 2 * inp
    kw = {"inp": inp, "hidden_dim": hidden, "oup": oup, "kernel_size": k, "stride": stride, "use_se": use_se}
    return {**kw, "use_hs": True, **({"fused": True} if fused else {})}


RECIPE = Recipe(
    module="repvit",
    repo="https://github.com/THU-MIG/RepViT",
    file="model/repvit.py",
    cls="RepViTBlock",
    configs=(
        Config(
            "stride1-se",
            _official(8, 8, 3, 1, 1),
            {"in_channels": 8, "out_channels": 8, "use_se": True},
            ((2, 8, 5, 7),),
        ),
        Config(
            "stride1-no-se",
            _official(16, 16, 3, 1, 0),
            {"in_channels": 16, "out_channels": 16, "use_se": False},
            ((2, 16, 6, 4),),
        ),
        Config(
            "stride2-k5-se",
            _official(8, 16, 5, 2, 1),
            {"in_channels": 8, "out_channels": 16, "kernel_size": 5, "stride": 2, "use_se": True},
            ((2, 8, 9, 7),),
        ),
        Config(
            "stride1-se-fused",
            _official(8, 8, 3, 1, 1, fused=True),
            {"in_channels": 8, "out_channels": 8, "use_se": True, "deploy": True},
            ((2, 8, 5, 7),),
        ),
        Config(
            "stride2-se-fused",
            _official(8, 16, 3, 2, 1, fused=True),
            {"in_channels": 8, "out_channels": 16, "stride": 2, "use_se": True, "deploy": True},
            ((2, 8, 9, 7),),
        ),
    ),
    rename=(
        # stride 1: RepVGGDW(conv = Conv2d_BN, conv1, bn), SE
        (r"^s1\.token_mixer\.0\.conv\.c\.", "token_conv.conv."),
        (r"^s1\.token_mixer\.0\.conv\.bn\.", "token_conv.bn."),
        (r"^s1\.token_mixer\.0\.conv1\.", "token_conv1."),
        (r"^s1\.token_mixer\.0\.bn\.", "token_bn."),
        # stride 2: Conv2d_BN (dw), SE, Conv2d_BN (1x1)
        (r"^s2\.token_mixer\.0\.c\.", "token_conv.conv."),
        (r"^s2\.token_mixer\.0\.bn\.", "token_conv.bn."),
        (r"^s2\.token_mixer\.2\.c\.", "token_pw.conv."),
        (r"^s2\.token_mixer\.2\.bn\.", "token_pw.bn."),
        # fused: plain convs
        (r"^s[12]\.token_mixer\.0\.(weight|bias)$", r"token_conv.\1"),
        (r"^s2\.token_mixer\.2\.(weight|bias)$", r"token_pw.\1"),
        (r"^s[12]\.token_mixer\.1\.", "se."),
        (r"^s[12]\.channel_mixer\.m\.0\.c\.", "mix_pw1.conv."),
        (r"^s[12]\.channel_mixer\.m\.0\.bn\.", "mix_pw1.bn."),
        (r"^s[12]\.channel_mixer\.m\.2\.c\.", "mix_pw2.conv."),
        (r"^s[12]\.channel_mixer\.m\.2\.bn\.", "mix_pw2.bn."),
        (r"^s[12]\.channel_mixer\.m\.0\.(weight|bias)$", r"mix_pw1.\1"),
        (r"^s[12]\.channel_mixer\.m\.2\.(weight|bias)$", r"mix_pw2.\1"),
    ),
    convert=se_as_linear,
    stubs=STUBS,
    build=build,
    note="timm is not installed: its SqueezeExcite is stubbed by a transcription of timm 0.5.4's SEModule (the "
    "version RepViT pins), the rest of timm by no-ops. The fused configurations apply the official fuse() "
    "methods as utils.replace_batchnorm does, then randomise the fused weights.",
)
