"""MHN's high-order attention against the official ``model.py`` (``HighDivModule``).

The official file imports torchvision for the ResNet-50 of its networks, which the module does not use: it is
stubbed. Official names ``order{R}_{r}_{k}.0`` (the k-th projection of order r) and ``convb{R}_{r}.0`` (the
order's output conv) map to our ``proj.<index>`` (orders in turn) and ``expand.<r - 1>``.
"""

from scripts.parity import Config, Recipe


def _proj(match):
    r, k = int(match[1]), int(match[2])
    return f"proj.{r * (r - 1) // 2 + k - 1}."


RECIPE = Recipe(
    module="mhn",
    repo="https://github.com/chenbinghui1/MHN",
    file="model.py",
    cls="HighDivModule",
    configs=(
        Config("order-1", {"in_channels": 16, "order": 1}, {"channels": 16, "order": 1}, ((2, 16, 6, 4),)),
        Config("order-3", {"in_channels": 16, "order": 3}, {"channels": 16, "order": 3}, ((2, 16, 5, 3),)),
        Config("order-6", {"in_channels": 24, "order": 6}, {"channels": 24, "order": 6}, ((1, 24, 4, 3),)),
    ),
    rename=(
        (r"^order\d+_(\d+)_(\d+)\.0\.", _proj),
        (r"^convb\d+_(\d+)\.0\.", lambda m: f"expand.{int(m[1]) - 1}."),
    ),
    stubs={"torchvision": "models = None"},
)
