"""ACmix against the official ``ResNet/test_bottleneck.py`` (``ACmix``), with ``out_planes = in_planes`` and
stride 1. The official builds the coordinate grid in float32; a patch casts it to the input's dtype so that
the float64 recording runs."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="acmix",
    repo="https://github.com/LeapLabTHU/ACmix",
    file="ResNet/test_bottleneck.py",
    cls="ACmix",
    configs=(
        Config(
            "default",
            {"in_planes": 16, "out_planes": 16, "kernel_att": 7, "head": 4, "kernel_conv": 3},
            {"channels": 16},
            ((2, 16, 5, 7),),
        ),
        Config(
            "att3-two-heads",
            {"in_planes": 8, "out_planes": 8, "kernel_att": 3, "head": 2, "kernel_conv": 3},
            {"channels": 8, "kernel_att": 3, "num_heads": 2},
            ((1, 8, 6, 9),),
        ),
        Config(
            "att5-three-heads",
            {"in_planes": 12, "out_planes": 12, "kernel_att": 5, "head": 3, "kernel_conv": 3},
            {"channels": 12, "kernel_att": 5, "num_heads": 3},
            ((1, 12, 4, 6),),
        ),
    ),
    rename=(
        (r"^conv1\.", "query."),
        (r"^conv2\.", "key."),
        (r"^conv3\.", "value."),
        (r"^conv_p\.", "pos_proj."),
    ),
    patches=(
        (
            "pe = self.conv_p(position(h, w, x.is_cuda))",
            "pe = self.conv_p(position(h, w, x.is_cuda).to(x.dtype))",
        ),
    ),
    note=(
        "The official position() returns float32; the patch casts it to the input's dtype (float64 here). The "
        "grid itself stays rounded to float32 there (ours is computed in the input's dtype), hence diffs near 1e-8."
    ),
)
