"""Full MaSA against the official ``classfication_release/RMT.py`` (``VisionRetentionAll``) of qhfan/RMT. The
official attention takes ``(N, H, W, C)`` tokens and the output of ``RetNetRelPos2d``: ``build`` pairs the class
with a ``RetNetRelPos2d`` of the same heads and decay, and ``call`` feeds it the channels-last map and the full
Manhattan-distance mask for the input's size. Configurations: an RMT last-stage decay on a non-square map, and
another head count and decay on a thin map."""

from scripts.parity import Config, Recipe
from scripts.parity_recipes._rmt_common import STUBS, build_pair, call_pair

RECIPE = Recipe(
    module="rmt-full",
    repo="https://github.com/qhfan/RMT",
    file="classfication_release/RMT.py",
    cls="VisionRetentionAll",
    configs=(
        Config(
            "default",
            {"embed_dim": 16, "num_heads": 4, "init_value": 2.0, "heads_range": 6.0},
            {"channels": 16, "num_heads": 4, "init_value": 2.0, "heads_range": 6.0},
            ((2, 16, 5, 7),),
        ),
        Config(
            "two-heads-thin",
            {"embed_dim": 8, "num_heads": 2, "init_value": 3.0, "heads_range": 4.0},
            {"channels": 8, "num_heads": 2, "init_value": 3.0, "heads_range": 4.0},
            ((1, 8, 2, 9),),
        ),
    ),
    rename=(
        (r"^retention\.(q|k|v)_proj\.", r"\1."),
        (r"^retention\.lepe\.conv\.", "lepe."),
        (r"^retention\.out_proj\.", "proj."),
    ),
    drop=(r"^relpos\.",),
    stubs=STUBS,
    build=build_pair(chunkwise=False),
    call=call_pair,
    note="timm, fvcore and einops (imported by the file for the RMT network) are stubbed; the official "
    "RetNetRelPos2d buffers (angle, decay) are dropped: ours computes the same non-persistent buffers.",
)
