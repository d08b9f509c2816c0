"""EPSANet's PSA module against the official ``models/epsanet.py`` (``PSAModule``, SE from ``SE_weight_module.py``)."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="epsanet",
    repo="https://github.com/murufeng/EPSANet",
    file="models/epsanet.py",
    cls="PSAModule",
    configs=(
        Config(
            "default",
            {"inplans": 16, "planes": 64},
            {"in_channels": 16, "out_channels": 64},
            ((2, 16, 5, 7),),
        ),
        Config(
            "stride-2",
            {"inplans": 16, "planes": 64, "stride": 2},
            {"in_channels": 16, "out_channels": 64, "stride": 2},
            ((2, 16, 6, 5),),
        ),
    ),
    rename=(
        (r"^conv_(\d)\.", lambda m: f"convs.{int(m.group(1)) - 1}."),
        (r"^se\.fc1\.", "se.0."),
        (r"^se\.fc2\.", "se.2."),
    ),
    # the file imports its SE module relatively (`from .SE_weight_module import ...`)
    patches=(("from .SE_weight_module import", "from SE_weight_module import"),),
)
