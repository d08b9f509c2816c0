"""Hamburger (V2, NMF ham) against the official ``seg/HamNet/hamburger/burger.py`` (``HamburgerV2``), configured
through an ``args`` namespace as the official ``settings.py`` does. The official draws fresh random bases at every
call; the harness seeds the global generator before each run, and ``eval_seed=None`` makes ours draw the same
numbers. One more configuration records the documented deviation (fixed bases in evaluation mode)."""

import types

import torch
import torch.nn.functional as F

from scripts.parity import Config, Recipe

_BN = "from torch.nn import BatchNorm2d as SynchronizedBatchNorm2d\n"


def _cpu_bases(B, S, D, R, cuda=False):
    # the official NMF2D._build_bases without its .cuda() (the file calls it with cuda=True), cast to float64
    return F.normalize(torch.rand((B * S, D, R)), dim=1).double()


def _build(cls, kwargs):
    kwargs = dict(kwargs)
    in_c = kwargs.pop("in_c")
    module = cls(in_c, types.SimpleNamespace(HAM_TYPE="NMF", RAND_INIT=True, SPATIAL=True, **kwargs))
    module.ham._build_bases = _cpu_bases
    return module


def _official(d, r, s=1):
    return {"in_c": 8, "MD_D": d, "MD_R": r, "MD_S": s, "TRAIN_STEPS": 6, "EVAL_STEPS": 6}


RECIPE = Recipe(
    module="hamburger",
    repo="https://github.com/Gsunshine/Enjoy-Hamburger",
    file="seg/HamNet/hamburger/burger.py",
    cls="HamburgerV2",
    configs=(
        Config(
            "default",
            _official(16, 4),
            {"channels": 8, "md_channels": 16, "rank": 4, "eval_seed": None},
            ((2, 8, 5, 7),),
        ),
        Config(
            "two-splits",
            _official(16, 3, 2),
            {"channels": 8, "md_channels": 16, "rank": 3, "num_splits": 2, "eval_seed": None},
            ((1, 8, 6, 9),),
        ),
        Config(
            "fixed-eval-bases",
            _official(16, 4),
            {"channels": 8, "md_channels": 16, "rank": 4},
            ((2, 8, 5, 7),),
            expect="differ",
            modes=("eval",),
            why="with eval_seed=0 (the default) the initial bases of evaluation mode come from a seeded generator",
        ),
    ),
    rename=((r"^cheese\.conv\.", "cheese.0."), (r"^cheese\.bn\.", "cheese.1.")),
    patches=(
        ("from .bread import ConvBNReLU, norm_layer", "from bread import ConvBNReLU, norm_layer"),
        ("from .ham import get_hams", "from ham import get_hams"),
    ),
    stubs={
        "settings": "BN_MOM = 3e-4\n",
        "sync_bn": "",
        "sync_bn.nn": "",
        "sync_bn.nn.modules": _BN,
    },
    build=_build,
    deviation=(
        "In evaluation mode the initial NMF bases come from a generator seeded with eval_seed (default 0), so "
        "inference is deterministic; the official code draws fresh random bases at every call."
    ),
    deviation_zh="评估模式下，NMF 的初始基由以 eval_seed（默认 0）为种子的生成器产生，推理结果因而确定；官方代码每次调用都重新随机生成初始基。",
    note=(
        "The package-relative imports of burger.py are made plain (the file is imported on its own); settings "
        "(BN_MOM = 3e-4, seg/HamNet/settings.py) and sync_bn's SynchronizedBatchNorm2d (torch.nn.BatchNorm2d on one "
        "device) are stubbed; NMF2D._build_bases, which calls .cuda(), is replaced at build time by the same draw on "
        "the CPU (torch.rand, then F.normalize over D) cast to float64."
    ),
)
