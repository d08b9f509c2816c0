"""Decomposed MaSA against the official ``classfication_release/RMT.py`` (``VisionRetentionChunk``) of qhfan/RMT.
The official attention takes ``(N, H, W, C)`` tokens and the output of ``RetNetRelPos2d`` (rotation and decay
masks): ``build`` pairs the class with a ``RetNetRelPos2d`` of the same heads and decay, and ``call`` feeds it the
channels-last map and the chunk-wise (decomposed) masks for the input's size. Configurations: an RMT-S first-stage
head layout on a non-square map, and more heads with another decay."""

from scripts.parity import Config, Recipe
from scripts.parity_recipes._rmt_common import STUBS, build_pair, call_pair

RECIPE = Recipe(
    module="rmt",
    repo="https://github.com/qhfan/RMT",
    file="classfication_release/RMT.py",
    cls="VisionRetentionChunk",
    configs=(
        Config(
            "default",
            {"embed_dim": 16, "num_heads": 4, "init_value": 2.0, "heads_range": 4.0},
            {"channels": 16, "num_heads": 4, "init_value": 2.0, "heads_range": 4.0},
            ((2, 16, 5, 7),),
        ),
        Config(
            "eight-heads",
            {"embed_dim": 16, "num_heads": 8, "init_value": 2.0, "heads_range": 6.0},
            {"channels": 16, "num_heads": 8, "init_value": 2.0, "heads_range": 6.0},
            ((1, 16, 6, 4),),
        ),
    ),
    rename=(
        (r"^retention\.(q|k|v)_proj\.", r"\1."),
        (r"^retention\.lepe\.conv\.", "lepe."),
        (r"^retention\.out_proj\.", "proj."),
    ),
    drop=(r"^relpos\.",),
    stubs=STUBS,
    build=build_pair(chunkwise=True),
    call=call_pair,
    note="timm, fvcore and einops (imported by the file for the RMT network) are stubbed; the official "
    "RetNetRelPos2d buffers (angle, decay) are dropped: ours computes the same non-persistent buffers.",
)
