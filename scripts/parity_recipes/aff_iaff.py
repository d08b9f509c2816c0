"""iAFF against the official PyTorch port ``aff_pytorch/aff_net/fusion.py`` (``iAFF``): two MS-CAM stages.

The port's second stage calls ``self.global_att`` (the first stage's global branch) and never uses
``global_att2``; ours, as the paper and the MXNet code, uses the second stage's own global branch. The
``tied`` configuration makes the port's ``global_att2`` the same module as ``global_att`` (so the two
computations coincide and everything else is compared); ``as-published`` runs the port unchanged and must
differ.
"""

from scripts.parity import Config, Recipe


def _build(cls, kwargs):
    kwargs = dict(kwargs)
    tie = kwargs.pop("tie_global_att2", False)
    module = cls(**kwargs)
    if tie:
        module.global_att2 = (
            module.global_att
        )  # what the port's forward computes: one global branch for both stages
    return module


_RENAME = (
    (r"^global_att(2?)\.1\.", r"global_att\1.0."),
    (r"^global_att(2?)\.2\.", r"global_att\1.1."),
    (r"^global_att(2?)\.4\.", r"global_att\1.3."),
    (r"^global_att(2?)\.5\.", r"global_att\1.4."),
    (r"^local_att\.", "mscam1.local_att."),
    (r"^global_att\.", "mscam1.global_att."),
    (r"^local_att2\.", "mscam2.local_att."),
    (r"^global_att2\.", "mscam2.global_att."),
)

RECIPE = Recipe(
    module="aff-iaff",
    repo="https://github.com/YimianDai/open-aff",
    file="aff_pytorch/aff_net/fusion.py",
    cls="iAFF",
    configs=(
        Config(
            "tied",
            {"channels": 16, "tie_global_att2": True},
            {"channels": 16},
            ((2, 16, 3, 5), (2, 16, 3, 5)),
        ),
        Config(
            "as-published",
            {"channels": 16},
            {"channels": 16},
            ((2, 16, 3, 5), (2, 16, 3, 5)),
            expect="differ",
            why="the port's second stage reuses the first stage's global_att; ours uses the second stage's own",
        ),
    ),
    rename=_RENAME,
    build=_build,
    deviation_zh="PyTorch 移植版的 iAFF 第二阶段复用了第一阶段的全局分支（global_att），global_att2 并未使用；本实现按论文与 MXNet 代码为第二阶段配备独立的全局分支。",
    deviation=(
        "The PyTorch port's second iAFF stage reuses the first stage's global branch (global_att) and leaves "
        "global_att2 unused; ours gives the second stage its own global branch, as the paper and the MXNet code."
    ),
    note=(
        "Running statistics are not compared: with global_att2 tied to global_att, the port updates that one "
        "BatchNorm twice per step (on both stages' inputs), while ours updates each stage's own once."
    ),
    compare_buffers=False,
)
