"""RGA-C against the official ``reid/models/models_utils/rga_modules.py`` (``RGA_Module`` with
``use_spatial=False, use_channel=True``). The official hidden width of ``W`` is ``(1 + C/c) // d``: the
configurations keep it at least 1, where ours agrees."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="rga-channel",
    repo="https://github.com/microsoft/Relation-Aware-Global-Attention-Networks",
    file="reid/models/models_utils/rga_modules.py",
    cls="RGA_Module",
    configs=(
        Config(
            "default",
            {"in_channel": 56, "in_spatial": 12, "use_spatial": False},
            {"channels": 56, "spatial_size": (3, 4)},
            ((2, 56, 3, 4),),
        ),
        Config(
            "ratios",
            {"in_channel": 16, "in_spatial": 20, "use_spatial": False, "cha_ratio": 2, "spa_ratio": 4},
            {"channels": 16, "spatial_size": (4, 5), "channel_ratio": 2, "spatial_ratio": 4},
            ((2, 16, 4, 5),),
        ),
    ),
    rename=(
        (r"^theta_channel\.", "theta."),
        (r"^phi_channel\.", "phi."),
        (r"^gx_channel\.", "psi_x."),
        (r"^gg_channel\.", "psi_r."),
        (r"^W_channel\.0\.", "W.0.conv."),
        (r"^W_channel\.1\.", "W.0.bn."),
        (r"^W_channel\.3\.", "W.1.conv."),
        (r"^W_channel\.4\.", "W.1.bn."),
        (r"^(theta|phi|psi_x|psi_r)\.0\.", r"\1.conv."),
        (r"^(theta|phi|psi_x|psi_r)\.1\.", r"\1.bn."),
    ),
)
