"""ULSAM against the official ``ulsam.py`` (``ULSAM``: one ``SubSpace`` module per channel group).

Ours computes the ``g`` subspaces together: the official per-subspace depthwise conv and BatchNorm are our
per-channel ones, and the ``g`` pointwise convs (``C/g -> 1``) and their one-channel BatchNorms are our grouped
conv and ``g``-channel BatchNorm. The ``build`` adapter adds a state-dict hook to the official module that
concatenates the per-subspace tensors in subspace order into that layout (both ``num_batches_tracked`` are equal).
"""

import re

import torch

from scripts.parity import Config, Recipe

_OURS = {"conv_dws": "dws", "bn_dws": "bn_dws", "conv_point": "point", "bn_point": "bn_point"}


def _merge_subspaces(module, state, prefix, local_metadata):
    pattern = re.compile(rf"^{re.escape(prefix)}subspaces\.(\d+)\.(\w+)\.(\w+)$")
    parts: dict[str, list] = {}
    for key in list(state):
        m = pattern.match(key)
        if m:
            index, layer, tensor = int(m.group(1)), m.group(2), m.group(3)
            parts.setdefault(f"{prefix}{_OURS[layer]}.{tensor}", []).append((index, state.pop(key)))
    for key, values in parts.items():
        values = [v for _, v in sorted(values, key=lambda item: item[0])]
        state[key] = values[0] if key.endswith("num_batches_tracked") else torch.cat(values, 0)


def _build(cls, kwargs):
    module = cls(**kwargs)
    module.register_state_dict_post_hook(_merge_subspaces)
    return module


RECIPE = Recipe(
    module="ulsam",
    repo="https://github.com/Nandan91/ULSAM",
    file="ulsam.py",
    cls="ULSAM",
    configs=(
        Config(
            "splits-4",
            {"nin": 16, "nout": 16, "h": 5, "w": 7, "num_splits": 4},
            {"channels": 16, "num_splits": 4},
            ((2, 16, 5, 7),),
        ),
        Config(
            "splits-2",
            {"nin": 32, "nout": 32, "h": 4, "w": 4, "num_splits": 2},
            {"channels": 32, "num_splits": 2},
            ((2, 32, 4, 4),),
        ),
    ),
    # The file makes CUDA tensors the default at import time.
    patches=(("torch.set_default_tensor_type(torch.cuda.FloatTensor)", "pass"),),
    build=_build,
)
