"""DIA unit against the official ``models/cifar/dia_resnet.py`` (``LSTMCell`` with one layer, as ``Attention``
builds it): one step of the shared modified LSTM and the channel gating of the ``Attention`` stage loop, from a
given state and from the zero state of a stage's first block."""

import torch

from scripts.parity import Config, Recipe


def _build(cls, kwargs):
    return cls(kwargs["channels"], kwargs["channels"], 1)


def _call(lstm, inputs):
    """One block of the official ``Attention.forward`` loop: pool (its ``GlobalAvg``), step the cell from
    ``(ht, ct)`` (zeros in the first block) and gate with ``x * ht[-1]``; the state is returned stacked as ours."""
    x = inputs[0]
    seq = x.mean((2, 3))
    if len(inputs) == 1:
        ht = torch.zeros(1, x.shape[0], x.shape[1], dtype=x.dtype)
        ct = torch.zeros_like(ht)
    else:
        ht, ct = inputs[1][:, 0][None], inputs[1][:, 1][None]
    ht, ct = lstm(seq, (ht, ct))
    return x * ht[-1].view(ht.size(1), ht.size(2), 1, 1), torch.stack([ht[-1], ct[-1]], 1)


RECIPE = Recipe(
    module="dianet",
    repo="https://github.com/gbup-group/DIANet",
    file="models/cifar/dia_resnet.py",
    cls="LSTMCell",
    configs=(
        Config("with-state", {"channels": 16}, {"channels": 16}, ((2, 16, 5, 7), (2, 2, 16))),
        Config("first-block", {"channels": 32}, {"channels": 32}, ((2, 32, 4, 3),)),
    ),
    rename=((r"^(w_ih|w_hh)\.0\.seq\.", r"\1."),),
    build=_build,
    call=_call,
    note=(
        "The official class is the cell `LSTMCell(C, C, 1)`; the recipe's `call` adds the pooling and the "
        "gating `x * ht[-1]` of the official `Attention` loop (which hard-codes 64/128/256 channels and "
        "`.cuda()` zero states)."
    ),
)
