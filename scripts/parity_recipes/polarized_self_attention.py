"""Parallel polarized self-attention against the official ``semantic-segmentation/network/PSA.py`` (``PSA_p``),
built with ``planes == inplanes``; the official names ``*_right`` (channel-only branch) and ``*_left``
(spatial-only branch) map to ours ``ch_*`` and ``sp_*``."""

from scripts.parity import Config, Recipe

RENAME = (
    (r"^conv_q_right\.", "ch_wq."),
    (r"^conv_v_right\.", "ch_wv."),
    (r"^conv_up\.", "ch_wz."),
    (r"^conv_q_left\.", "sp_wq."),
    (r"^conv_v_left\.", "sp_wv."),
)

RECIPE = Recipe(
    module="polarized-self-attention",
    repo="https://github.com/DeLightCMU/PSA",
    file="semantic-segmentation/network/PSA.py",
    cls="PSA_p",
    configs=(
        Config("default", {"inplanes": 16, "planes": 16}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config("odd-channels", {"inplanes": 10, "planes": 10}, {"channels": 10}, ((1, 10, 9, 6),)),
    ),
    rename=RENAME,
)
