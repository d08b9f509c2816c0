"""SEA attention against the official ``seaformer-cls/seaformer.py`` (``Sea_Attention``) of fudan-zvg/SeaFormer.
Both take ``(N, C, H, W)``. The official class needs its ``activation`` passed (the SeaFormer models pass
``nn.ReLU6``) and ``build_norm_layer`` from mmcv, stubbed here by plain batch norm (``norm_cfg`` type ``BN``).
Configurations: the SeaFormer-T head layout on a non-square map, more heads than the axes are long, and a value
ratio of 1 on a map longer than the 16-entry positional embeddings."""

from scripts.parity import Config, Recipe

_MMCV_CNN = """
from torch import nn


class ConvModule(nn.Module):
    pass


def build_norm_layer(cfg, num_features):
    assert cfg["type"] in ("BN", "BN2d"), cfg
    return "bn", nn.BatchNorm2d(num_features)
"""


def _build(cls, kwargs):
    import torch.nn as nn

    return cls(activation=nn.ReLU6, **kwargs)


RECIPE = Recipe(
    module="seaformer",
    repo="https://github.com/fudan-zvg/SeaFormer",
    file="seaformer-cls/seaformer.py",
    cls="Sea_Attention",
    configs=(
        Config(
            "default",
            {"dim": 8, "key_dim": 2, "num_heads": 4, "attn_ratio": 2},
            {"channels": 8, "key_dim": 2, "num_heads": 4, "attn_ratio": 2},
            ((2, 8, 5, 7),),
        ),
        Config(
            "six-heads",
            {"dim": 12, "key_dim": 2, "num_heads": 6, "attn_ratio": 2},
            {"channels": 12, "key_dim": 2, "num_heads": 6},
            ((1, 12, 4, 3),),
        ),
        Config(
            "ratio-1-long-axis",
            {"dim": 8, "key_dim": 4, "num_heads": 2, "attn_ratio": 1},
            {"channels": 8, "key_dim": 4, "num_heads": 2, "attn_ratio": 1},
            ((1, 8, 3, 20),),
        ),
    ),
    rename=(
        (r"^(to_q|to_k|to_v|dwconv|pwconv)\.c\.", r"\1.conv."),
        (r"^proj\.1\.c\.", "proj.conv."),
        (r"^proj\.1\.bn\.", "proj.bn."),
        (r"^proj_encode_row\.1\.c\.", "encode_row.conv."),
        (r"^proj_encode_row\.1\.bn\.", "encode_row.bn."),
        (r"^proj_encode_column\.1\.c\.", "encode_col.conv."),
        (r"^proj_encode_column\.1\.bn\.", "encode_col.bn."),
        (r"^pos_emb_rowq\.", "pos_row_q."),
        (r"^pos_emb_rowk\.", "pos_row_k."),
        (r"^pos_emb_columnq\.", "pos_col_q."),
        (r"^pos_emb_columnk\.", "pos_col_k."),
    ),
    stubs={
        "mmcv": "",
        "mmcv.cnn": _MMCV_CNN,
        "timm": "",
        "timm.models": "",
        "timm.models.registry": "def register_model(fn):\n    return fn\n",
    },
    build=_build,
    note="mmcv's build_norm_layer is stubbed by nn.BatchNorm2d (the official norm_cfg is type BN); mmcv's "
    "ConvModule and timm's register_model are imported by the file but not used by Sea_Attention.",
)
