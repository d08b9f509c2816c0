"""RGA-S against the official ``reid/models/models_utils/rga_modules.py`` (``RGA_Module`` with
``use_spatial=True, use_channel=False``). The official hidden width of ``W`` is ``(1 + HW/s) // d``: the
configurations keep it at least 1, where ours agrees."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="rga-spatial",
    repo="https://github.com/microsoft/Relation-Aware-Global-Attention-Networks",
    file="reid/models/models_utils/rga_modules.py",
    cls="RGA_Module",
    configs=(
        Config(
            "default",
            {"in_channel": 8, "in_spatial": 56, "use_channel": False},
            {"channels": 8, "spatial_size": (7, 8)},
            ((2, 8, 7, 8),),
        ),
        Config(
            "ratios",
            {"in_channel": 16, "in_spatial": 24, "use_channel": False, "cha_ratio": 4, "spa_ratio": 2},
            {"channels": 16, "spatial_size": (4, 6), "channel_ratio": 4, "spatial_ratio": 2},
            ((2, 16, 4, 6),),
        ),
    ),
    rename=(
        (r"^theta_spatial\.", "theta."),
        (r"^phi_spatial\.", "phi."),
        (r"^gx_spatial\.", "psi_x."),
        (r"^gg_spatial\.", "psi_r."),
        (r"^W_spatial\.0\.", "W.0.conv."),
        (r"^W_spatial\.1\.", "W.0.bn."),
        (r"^W_spatial\.3\.", "W.1.conv."),
        (r"^W_spatial\.4\.", "W.1.bn."),
        (r"^(theta|phi|psi_x|psi_r)\.0\.", r"\1.conv."),
        (r"^(theta|phi|psi_x|psi_r)\.1\.", r"\1.bn."),
    ),
)
