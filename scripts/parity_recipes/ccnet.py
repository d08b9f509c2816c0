"""CCNet's criss-cross attention against the official pure-PyTorch ``cc_attention/functions.py``
(``CrissCrossAttention``, one pass). Recurrence R is the official ``RCCAModule.forward`` loop
(``networks/ccnet.py``: the same module applied R times), rebuilt by ``build`` as a Sequential of the one
module R times."""

from torch import nn

from scripts.parity import Config, Recipe


def _build(cls, kwargs):
    kwargs = dict(kwargs)
    recurrence = kwargs.pop("recurrence")
    cca = cls(**kwargs)
    return nn.Sequential(*[cca] * recurrence)  # one module, applied `recurrence` times


RECIPE = Recipe(
    module="ccnet",
    repo="https://github.com/speedinghzl/CCNet",
    file="cc_attention/functions.py",
    cls="CrissCrossAttention",
    configs=(
        Config("default", {"in_dim": 16, "recurrence": 2}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config(
            "single-pass",
            {"in_dim": 24, "recurrence": 1},
            {"channels": 24, "recurrence": 1},
            ((2, 24, 4, 4),),
        ),
        Config(
            "three-passes", {"in_dim": 8, "recurrence": 3}, {"channels": 8, "recurrence": 3}, ((2, 8, 7, 6),)
        ),
    ),
    rename=(
        (r"^0\.query_conv\.", "query."),
        (r"^0\.key_conv\.", "key."),
        (r"^0\.value_conv\.", "value."),
        (r"^0\.", ""),
    ),
    drop=(r"^[1-9]\.",),
    patches=(('torch.tensor(float("inf")).cuda()', 'torch.tensor(float("inf"))'),),
    build=_build,
    note="The recurrent passes share one module: the state-dict entries of passes 2..R are duplicates and dropped.",
)
