"""Generalised attention against mmcv's ``mmcv/cnn/bricks/generalized_attention.py`` (``GeneralizedAttention``,
the code of mmdetection's ``configs/empirical_attention``): all four terms (``"1111"``) with key/value and
query strides, and the documented ``"0100"`` case, where mmcv's query-and-position term differs."""

from scripts.parity import Config, Recipe

# mmcv imports only its weight initialiser and its registry from mmengine; neither affects the numbers
# (every weight is randomised before the comparison).
MMENGINE_STUBS = {
    "mmengine": "",
    "mmengine.model": "def kaiming_init(module, *args, **kwargs):\n    pass\n",
    "mmengine.registry": (
        "class _Registry:\n"
        "    def register_module(self, *args, **kwargs):\n"
        "        return lambda cls: cls\n"
        "MODELS = _Registry()\n"
    ),
}

RECIPE = Recipe(
    module="empirical-attention",
    repo="https://github.com/open-mmlab/mmcv",
    file="mmcv/cnn/bricks/generalized_attention.py",
    cls="GeneralizedAttention",
    configs=(
        Config(
            "1111-non-square",
            {"in_channels": 16, "num_heads": 8},
            {"channels": 16, "num_heads": 8},
            ((1, 16, 5, 7),),
        ),
        Config(
            "1111-heads-9-q-stride-2",
            {"in_channels": 18, "q_stride": 2, "position_embedding_dim": 8},
            {"channels": 18, "q_stride": 2, "position_embedding_dim": 8},
            ((1, 18, 6, 5),),
        ),
        Config(
            "0100-square",
            {"in_channels": 16, "num_heads": 8, "attention_type": "0100"},
            {"channels": 16, "num_heads": 8, "attention_type": "0100"},
            ((1, 16, 6, 6),),
            expect="differ",
            why="mmcv's '0100' branch multiplies position_feat_y with the query permuted to (w, h) instead "
            "of (h, w): wrong vertical-offset logits on square maps (a shape error on others); ours "
            "computes the term as in '1111'.",
        ),
    ),
    stubs=MMENGINE_STUBS,
    deviation_zh="对于含“查询与位置”项但不含“仅位置”项的类型（'0100'、'0110'、'1100'、'1110'），mmcv 在取查询的竖直方向偏移时交换了高和宽；本模块按 '1111' 的方式计算该项。",
    deviation="For the types with the query-and-position term but without the position-only term "
    "('0100', '0110', '1100', '1110'), mmcv takes the vertical offsets from the query with height and "
    "width swapped; this module computes that term as for '1111'.",
)
