"""FPT grounding transformer against the official ``lib/modeling/grounding_trans.py`` (``GroundTrans``,
``mode='dot'``, ``bn_layer=True`` as wired in ``FPT_a.py``): finer-level queries, coarser-level keys and
values, ``q . k / N_c``, ``W_z`` conv + BN. The official forward is ``(x_low, x_high)`` = (finer, coarser),
the order of ours."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="fpt-grounding",
    repo="https://github.com/ZHANGDONG-NJUST/FPT",
    file="lib/modeling/grounding_trans.py",
    cls="GroundTrans",
    configs=(
        Config(
            "default",
            {"in_channels": 16, "mode": "dot", "dimension": 2, "bn_layer": True},
            {"channels": 16},
            ((2, 16, 4, 8), (2, 16, 2, 4)),
        ),
        Config(
            "inter-4",
            {"in_channels": 8, "inter_channels": 4, "mode": "dot", "dimension": 2, "bn_layer": True},
            {"channels": 8, "inter_channels": 4},
            ((2, 8, 6, 6), (2, 8, 3, 3)),
        ),
    ),
    # torch >= 2 rejects a torch.Size mixed with ints in view(); unpack it
    patches=(
        (
            "y.view(batch_size, self.inter_channels, x_low.size()[2:])",
            "y.view(batch_size, self.inter_channels, *x_low.size()[2:])",
        ),
    ),
    rename=((r"^W_z\.0\.", "W_z."), (r"^W_z\.1\.", "norm.")),
)
