"""DCA-SE against the official ``models/resnet/resnet_se_dca.py`` (``CSELayer``).

The official layer takes and returns ``{0: features, 1: attended descriptor}`` with ``(N, C)`` descriptors;
the ``call`` adapter passes ``(x, previous.flatten(1))`` and reshapes the returned descriptor to ``(N, C, 1, 1)``.
"""

from scripts.parity import Config, Recipe


def _call(module, inputs):
    previous = inputs[1].flatten(1) if len(inputs) > 1 else None
    out = module({0: inputs[0], 1: previous})
    return out[0], out[1][:, :, None, None]


RECIPE = Recipe(
    module="dcanet",
    repo="https://github.com/13952522076/DCANet",
    file="models/resnet/resnet_se_dca.py",
    cls="CSELayer",
    configs=(
        Config(
            "projected",
            {"in_channel": 16, "channel": 32},
            {"channels": 32, "prev_channels": 16},
            ((2, 32, 3, 4), (2, 16, 1, 1)),
        ),
        Config(
            "same-width", {"in_channel": 32, "channel": 32}, {"channels": 32}, ((2, 32, 3, 3), (2, 32, 1, 1))
        ),
        Config("first-block", {"in_channel": 32, "channel": 32}, {"channels": 32}, ((2, 32, 2, 4),)),
    ),
    rename=((r"^conv\.0\.", "connect."), (r"^conv\.1\.", "connect_norm.")),
    call=_call,
)
