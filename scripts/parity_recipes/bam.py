"""BAM against the official ``MODELS/bam.py`` (``BAM``): channel and spatial branch, ``1 + sigmoid(M_c * M_s)``.

The official block multiplies the branches, so ours runs with ``combine="mul"``; the official channel branch
pools an ``H x H`` window (``avg_pool2d`` with kernel ``x.size(2)``), so a non-square input differs.
"""

from scripts.parity import Config, Recipe

from ._common import as_conv1x1

_WHY_POOL = (
    "the official channel branch pools an HxH window (avg_pool2d with kernel and stride x.size(2)), the "
    "left H columns only when W > H; ours averages the whole map"
)

RECIPE = Recipe(
    module="bam",
    repo="https://github.com/Jongchan/attention-module",
    file="MODELS/bam.py",
    cls="BAM",
    configs=(
        Config("square", {"gate_channel": 32}, {"channels": 32, "combine": "mul"}, ((2, 32, 5, 5),)),
        Config(
            "non-square",
            {"gate_channel": 32},
            {"channels": 32, "combine": "mul"},
            ((2, 32, 3, 4),),
            expect="differ",
            why=_WHY_POOL,
        ),
    ),
    rename=(
        (r"^channel_att\.gate_c\.gate_c_fc_0\.", "channel_att.0."),
        (r"^channel_att\.gate_c\.gate_c_bn_1\.", "channel_att.1."),
        (r"^channel_att\.gate_c\.gate_c_fc_final\.", "channel_att.3."),
        (r"^spatial_att\.gate_s\.gate_s_conv_reduce0\.", "spatial_att.0."),
        (r"^spatial_att\.gate_s\.gate_s_bn_reduce0\.", "spatial_att.1."),
        (r"^spatial_att\.gate_s\.gate_s_conv_di_0\.", "spatial_att.3."),
        (r"^spatial_att\.gate_s\.gate_s_bn_di_0\.", "spatial_att.4."),
        (r"^spatial_att\.gate_s\.gate_s_conv_di_1\.", "spatial_att.6."),
        (r"^spatial_att\.gate_s\.gate_s_bn_di_1\.", "spatial_att.7."),
        (r"^spatial_att\.gate_s\.gate_s_conv_final\.", "spatial_att.9."),
    ),
    convert=as_conv1x1,
    # ChannelGate.__init__ assigns an undefined name; the attribute is never used.
    patches=(("        self.gate_activation = gate_activation\n", ""),),
    deviation_zh="官方代码把两个分支相乘（本实现按论文默认相加，设置 combine='mul' 可复现官方做法）；另外官方通道分支用 HxH 窗口做平均池化，当 H != W 时与本实现的全局平均不同。",
    deviation=(
        "The official code multiplies the two branches (ours adds them by default, as the paper; combine='mul' "
        "reproduces it), and its channel branch average-pools an HxH window, which differs from our global "
        "average when H != W."
    ),
)
