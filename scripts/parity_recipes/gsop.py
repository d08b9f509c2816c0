"""GSoP (channel-wise) against the official ``torchvision/models/resnet.py`` (``Bottleneck`` with ``attention='1'``):
its ``chan_att`` gate (with the official ``MPNCOV.CovpoolLayer`` and its hand-written backward) applied as in
``Bottleneck.forward``, ``out * chan_att(out)``; the bottleneck's own convolutions are not run."""

from scripts.parity import Config, Recipe


def _build(cls, kwargs):
    return cls(kwargs["planes"] * 4, kwargs["planes"], attention="1", att_dim=kwargs["att_dim"])


def _call(block, inputs):
    (x,) = inputs
    return x * block.chan_att(x)


RECIPE = Recipe(
    module="gsop",
    repo="https://github.com/ZilinGao/Global-Second-order-Pooling-Convolutional-Networks",
    file="torchvision/models/resnet.py",
    cls="Bottleneck",
    configs=(
        # planes <= 64: the official reducing conv has stride 2 (ResNet-50's first stage)
        Config(
            "stride-2",
            {"planes": 4, "att_dim": 8},
            {"channels": 16, "reduced_channels": 8, "reduce_stride": 2},
            ((2, 16, 5, 7),),
        ),
        # planes > 64: stride 1 (the other stages)
        Config(
            "stride-1",
            {"planes": 65, "att_dim": 2},
            {"channels": 260, "reduced_channels": 2, "reduce_stride": 1},
            ((1, 260, 1, 3),),
        ),
    ),
    rename=(
        (r"^conv_for_DR\.", "reduce."),
        (r"^bn_for_DR\.", "reduce_bn."),
        (r"^row_conv_group\.", "row_conv."),
        (r"^fc_adapt_channels\.", "fc."),
    ),
    drop=(r"^(conv|bn)[123]\.",),
    patches=(("from .MPNCOV.python import MPNCOV", "from MPNCOV.python import MPNCOV"),),
    build=_build,
    call=_call,
    note=(
        "Built as the official Bottleneck(4 planes, planes, attention='1', att_dim=d); its conv1-3/bn1-3 are "
        "dropped (the block's body, not the GSoP gate) and only chan_att is run. The official CovpoolLayer builds its centring matrix in float32 before casting it, hence differences of about 1e-8 in float64. The patch turns the "
        "package-relative MPNCOV import into an absolute one (the file is imported on its own)."
    ),
)
