"""PKINet's CAA against the official ``mmrotate/models/backbones/pkinet.py`` (``CAA``) of
NUST-Machine-Intelligence-Laboratory/PKINet. The official class returns the attention factor ``A``; ``call``
multiplies it with the input, which is what ours returns. Configurations: the class defaults (BN + SiLU, 11-long
strips) on a non-square map, and the way PKINet builds it (no norm, no activation, biased 1x1 convolutions)
with unequal strips."""

from scripts.parity import Config, Recipe

# mmcv's ConvModule as CAA uses it: conv (bias only without a norm, bias="auto"), then the norm of norm_cfg
# (named "bn" for BN), then the activation of act_cfg (named "activate"), in this order.
_MMCV_CNN = """
from torch import nn


class ConvModule(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias='auto', norm_cfg=None, act_cfg=dict(type='ReLU')):
        super().__init__()
        if bias == 'auto':
            bias = norm_cfg is None
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias=bias)
        self.with_norm = norm_cfg is not None
        if self.with_norm:
            assert norm_cfg['type'] == 'BN', norm_cfg
            self.bn = nn.BatchNorm2d(out_channels, eps=norm_cfg.get('eps', 1e-5),
                                     momentum=norm_cfg.get('momentum', 0.1))
        self.activate = None
        if act_cfg is not None:
            self.activate = {'SiLU': nn.SiLU, 'ReLU': nn.ReLU}[act_cfg['type']]()

    def forward(self, x):
        x = self.conv(x)
        if self.with_norm:
            x = self.bn(x)
        return self.activate(x) if self.activate is not None else x


def build_norm_layer(*args, **kwargs):
    raise NotImplementedError('stub')
"""

_MMENGINE_MODEL = """
from torch import nn


class BaseModule(nn.Module):
    def __init__(self, init_cfg=None):
        super().__init__()


def constant_init(*args, **kwargs):
    raise NotImplementedError('stub')
"""

_REGISTRY = """
class _Registry:
    def register_module(self, *args, **kwargs):
        return lambda cls: cls


ROTATED_BACKBONES = _Registry()
"""

_UNUSED = "def {0}(*args, **kwargs):\n    raise NotImplementedError('stub')\n"


def _call(module, inputs):
    (x,) = inputs
    return x * module(x)


RECIPE = Recipe(
    module="pkinet-caa",
    repo="https://github.com/NUST-Machine-Intelligence-Laboratory/PKINet",
    file="mmrotate/models/backbones/pkinet.py",
    cls="CAA",
    configs=(
        Config(
            "default-bn-silu",
            {"channels": 16, "h_kernel_size": 11, "v_kernel_size": 11},
            {"channels": 16, "h_kernel_size": 11, "v_kernel_size": 11},
            ((2, 16, 5, 9),),
        ),
        Config(
            "pkinet-no-norm-no-act",
            {"channels": 12, "h_kernel_size": 13, "v_kernel_size": 7, "norm_cfg": None, "act_cfg": None},
            {"channels": 12, "h_kernel_size": 13, "v_kernel_size": 7, "norm_layer": None, "act_layer": None},
            ((1, 12, 8, 11),),
        ),
    ),
    rename=((r"\.activate\.", ".act."),),
    stubs={
        "mmcv": "",
        "mmcv.cnn": _MMCV_CNN,
        "mmcv.cnn.bricks": _UNUSED.format("DropPath"),
        "mmengine": "",
        "mmengine.model": _MMENGINE_MODEL,
        "mmengine.model.weight_init": _UNUSED.format("trunc_normal_init") + _UNUSED.format("normal_init"),
        "mmengine.logging": "class MMLogger:\n    pass\n",
        "mmrotate": "",
        "mmrotate.models": "",
        "mmrotate.models.builder": _REGISTRY,
        "mmrotate.models.utils": "".join(
            _UNUSED.format(n) for n in ("autopad", "make_divisible", "BHWC2BCHW", "BCHW2BHWC")
        ),
    },
    call=_call,
    note=(
        "mmcv's ConvModule is stubbed by its conv -> BN -> activation composition with bias='auto' (the only "
        "form CAA uses); mmengine's BaseModule by nn.Module. The other mmcv, mmengine and mmrotate names are "
        "imported by the file for the rest of PKINet and not used by CAA."
    ),
)
