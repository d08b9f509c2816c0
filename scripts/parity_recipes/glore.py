"""GloRe against the official ``network/global_reasoning_unit.py`` (``GloRe_Unit_2D``): the node adjacency is an
``nn.Conv1d`` on the transposed node features there and an ``nn.Linear`` here, so its ``(M, M, 1)`` weight is
squeezed. One configuration with and one without the ``1 / (H W)`` normalisation."""

from scripts.parity import Config, Recipe


def _convert(name, value):
    return value[..., 0] if name == "adjacency.weight" else value


RECIPE = Recipe(
    module="glore",
    repo="https://github.com/facebookresearch/GloRe",
    file="network/global_reasoning_unit.py",
    cls="GloRe_Unit_2D",
    configs=(
        Config("default", {"num_in": 16, "num_mid": 4}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config(
            "normalize",
            {"num_in": 12, "num_mid": 6, "normalize": True},
            {"channels": 12, "num_mid": 6, "normalize": True},
            ((1, 12, 6, 9),),
        ),
    ),
    rename=((r"^gcn\.conv1\.", "adjacency."), (r"^gcn\.conv2\.", "state_update.")),
    convert=_convert,
)
