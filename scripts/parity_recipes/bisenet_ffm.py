"""BiSeNet FFM against TorchSeg's ``furnace/seg_opr/seg_oprs.py`` (``FeatureFusion``): concatenation, 1x1
conv-BN-ReLU, SE-like re-weighting without norm, ``u + u * a``."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="bisenet-ffm",
    repo="https://github.com/ycszen/TorchSeg",
    file="furnace/seg_opr/seg_oprs.py",
    cls="FeatureFusion",
    configs=(
        Config(
            "default",
            {"in_planes": 16, "out_planes": 16},
            {"spatial_channels": 8, "context_channels": 8, "out_channels": 16},
            ((2, 8, 5, 7), (2, 8, 5, 7)),
        ),
        Config(
            "reduction-4",
            {"in_planes": 20, "out_planes": 16, "reduction": 4},
            {"spatial_channels": 8, "context_channels": 12, "out_channels": 16, "reduction": 4},
            ((2, 8, 4, 6), (2, 12, 4, 6)),
        ),
    ),
    rename=(
        (r"^conv_1x1\.conv\.", "fuse.conv."),
        (r"^conv_1x1\.bn\.", "fuse.bn."),
        (r"^channel_attention\.1\.conv\.", "fc1."),
        (r"^channel_attention\.2\.conv\.", "fc2."),
    ),
)
