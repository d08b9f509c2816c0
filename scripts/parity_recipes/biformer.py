"""BiFormer's bi-level routing attention against the official plain-PyTorch ``ops/bra_legacy.py``
(``BiLevelRoutingAttention``, with ``auto_pad=True``, the padding our module always does): the official takes and
returns ``(N, H, W, C)``; ``call`` converts with ``cvattn.tokens``. Configurations: no padding, a padded map with
five-pixel LCE, and a narrower ``qk_dim`` with one routed region. Recording needs ``einops`` (which the official
file uses throughout) importable, e.g. from a ``pip install --target`` folder on ``PYTHONPATH``."""

from cvattn.tokens import from_channels_last, to_channels_last
from scripts.parity import Config, Recipe


def _call(module, inputs):
    (x,) = inputs
    return from_channels_last(module(to_channels_last(x)))


def _official(dim, heads, n_win, topk, side, qk_dim=None):
    return {
        "dim": dim,
        "num_heads": heads,
        "n_win": n_win,
        "qk_dim": qk_dim,
        "topk": topk,
        "side_dwconv": side,
        "auto_pad": True,
    }


RECIPE = Recipe(
    module="biformer",
    repo="https://github.com/rayleizhu/BiFormer",
    file="ops/bra_legacy.py",
    cls="BiLevelRoutingAttention",
    configs=(
        Config(
            "divisible",
            _official(16, 2, 2, 2, 3),
            {"channels": 16, "num_heads": 2, "n_win": 2, "topk": 2, "side_dwconv": 3},
            ((2, 16, 6, 6),),
        ),
        Config(
            "padded-lce5",
            _official(16, 4, 3, 4, 5),
            {"channels": 16, "num_heads": 4, "n_win": 3, "topk": 4, "side_dwconv": 5},
            ((1, 16, 7, 8),),
        ),
        Config(
            "qk8-top1",
            _official(12, 2, 2, 1, 3, qk_dim=8),
            {"channels": 12, "num_heads": 2, "n_win": 2, "topk": 1, "qk_dim": 8, "side_dwconv": 3},
            ((1, 12, 5, 6),),
        ),
    ),
    rename=((r"^qkv\.qkv\.", "qkv."),),
    call=_call,
    note="The official QKVLinear wrapper's qkv.qkv.* weights are our qkv.*; its router has no parameters "
    "(param_routing=False).",
)
