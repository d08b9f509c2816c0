"""FPT rendering transformer against the official ``lib/modeling/rendering_trans.py`` (``RenderTrans``,
``upsample=False`` as wired in ``FPT_a.py``): channel weight from the finer map's global average, 3x3
conv-BN query re-weighted by it, plus the strided 3x3 conv-BN of the finer map, ReLU. The official forward
is ``(x_high, x_low)`` = (coarser, finer), the order of ours."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="fpt-rendering",
    repo="https://github.com/ZHANGDONG-NJUST/FPT",
    file="lib/modeling/rendering_trans.py",
    cls="RenderTrans",
    configs=(
        Config(
            "default",
            {"channels_high": 8, "channels_low": 8, "upsample": False},
            {"channels": 8},
            ((2, 8, 3, 5), (2, 8, 6, 10)),
        ),
        Config(
            "fine-8-odd",
            {"channels_high": 12, "channels_low": 8, "upsample": False},
            {"channels": 12, "fine_channels": 8},
            ((2, 12, 4, 3), (2, 8, 7, 5)),
        ),
        Config(
            "query-1x1",
            {"channels_high": 8, "channels_low": 8, "upsample": False},
            {"channels": 8},
            ((4, 8, 1, 1), (4, 8, 2, 2)),
        ),
    ),
    rename=(
        (r"^bn_low\.", "bn_weight."),
        (r"^bn_high\.", "bn_query."),
        (r"^bn_reduction\.", "bn_value."),
    ),
    drop=(r"^conv_reduction\.", r"^conv_cat\."),
    note="conv_reduction and conv_cat are built but never used by the official forward (upsample=False); dropped.",
)
