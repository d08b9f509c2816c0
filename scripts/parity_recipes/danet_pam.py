"""DANet's position attention against the official ``encoding/nn/da_att.py`` (``PAM_Module``)."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="danet-pam",
    repo="https://github.com/junfu1115/DANet",
    file="encoding/nn/da_att.py",
    cls="PAM_Module",
    configs=(
        Config("default", {"in_dim": 16}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config("square", {"in_dim": 32}, {"channels": 32}, ((2, 32, 4, 4),)),
    ),
    rename=((r"^query_conv\.", "query."), (r"^key_conv\.", "key."), (r"^value_conv\.", "value.")),
)
