"""ABD-Net's position attention against the official ``torchreid/components/attention.py`` (``PAM_Module``)."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="abd-net-pam",
    repo="https://github.com/VITA-Group/ABD-Net",
    file="torchreid/components/attention.py",
    cls="PAM_Module",
    configs=(
        Config("default", {"in_dim": 16}, {"channels": 16}, ((2, 16, 6, 4),)),
        Config("odd", {"in_dim": 32}, {"channels": 32}, ((1, 32, 5, 3),)),
    ),
    rename=((r"^query_conv\.", "query."), (r"^key_conv\.", "key."), (r"^value_conv\.", "value.")),
)
