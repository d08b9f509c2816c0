"""AutoNL's LightNL block against the authors' PyTorch port (``models/mobilenet_base.py``, ``Nonlocal``, in
meijieru/yet_another_mobilenet_series; the official AutoNL code is TensorFlow). The port scales the affinity
product by ``/ H * W`` where the TensorFlow code and ours divide by ``H * W``; the two agree exactly when
``W = 1``, so the matching configurations use width-1 maps (everything but that constant is compared), and
one ordinary map must differ."""

import sys
import types

from scripts.parity import Config, Recipe


def _build(cls, kwargs):
    # Nonlocal.__init__ imports ``utils.config.FLAGS``, whose module parses the command line for an app
    # config on import; a stand-in with FLAGS = None (its value before parsing) is in place while building.
    stub = types.ModuleType("utils.config")
    stub.FLAGS = None
    saved = sys.modules.get("utils.config")
    sys.modules["utils.config"] = stub
    try:
        return cls(**kwargs)
    finally:
        if saved is None:
            sys.modules.pop("utils.config")
        else:
            sys.modules["utils.config"] = saved


RECIPE = Recipe(
    module="autonl",
    repo="https://github.com/meijieru/yet_another_mobilenet_series",
    file="models/mobilenet_base.py",
    cls="Nonlocal",
    configs=(
        Config(
            "width-one",
            {"n_feature": 16, "nl_c": 0.25, "nl_s": 1},
            {"channels": 16},
            ((3, 16, 12, 1),),
        ),
        Config(
            "width-one-stride-2",
            {"n_feature": 16, "nl_c": 0.125, "nl_s": 2},
            {"channels": 16, "channel_ratio": 0.125, "stride": 2},
            ((3, 16, 15, 1),),
        ),
        Config(
            "map",
            {"n_feature": 16, "nl_c": 0.25, "nl_s": 1},
            {"channels": 16},
            ((2, 16, 4, 5),),
            expect="differ",
            why="the port scales by f / H * W (= W/H), ours by 1/(H*W) as the TensorFlow code; they differ "
            "whenever W > 1",
        ),
    ),
    build=_build,
    deviation_zh="作者的 PyTorch 移植版把亲和矩阵乘积按 f / H * W 缩放；本实现与官方 TensorFlow 代码一样除以 H * W，因此只有宽度为 1 的特征图两者才完全一致。",
    deviation=(
        "The authors' PyTorch port scales the affinity product by f / H * W; ours divides by H * W as the "
        "official TensorFlow code, so the outputs agree only for width-1 maps."
    ),
    note=(
        "The official AutoNL code is TensorFlow (LiYingwei/AutoNL, model_def.py); the compared class is the "
        "authors' PyTorch port. Nonlocal is built with its defaults (ZeroInitBN with PyTorch's eps/momentum; "
        "utils.config.FLAGS is None at build time, so it has no nl_norm)."
    ),
)
