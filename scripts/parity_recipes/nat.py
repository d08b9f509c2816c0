"""NAT's neighborhood attention against NATTEN's ``natten/natten2d.py`` (``NeighborhoodAttention2D``) at v0.14.4,
the version pinned in the NAT repository's ``classification/requirements.txt``. NATTEN's CPU kernels
(``natten/src/cpp``) are compiled from that checkout with ``torch.utils.cpp_extension`` into ``natten/_C``; the
file's relative import is patched to the absolute ``natten.functional``. The official takes ``(N, H, W, C)``
tokens; ``call`` permutes our ``(N, C, H, W)`` input with cvattn.tokens and back. Configurations: kernel 3,
kernel 5 with four heads and no qkv bias, and a map smaller than the kernel (zero-padded, then cropped)."""

from cvattn.tokens import from_channels_last, to_channels_last
from scripts.parity import Config, Recipe


def _call(module, inputs):
    (x,) = inputs
    return from_channels_last(module(to_channels_last(x)))


RECIPE = Recipe(
    module="nat",
    repo="https://github.com/SHI-Labs/NATTEN",
    file="natten/natten2d.py",
    cls="NeighborhoodAttention2D",
    configs=(
        Config(
            "kernel-3",
            {"dim": 8, "kernel_size": 3, "num_heads": 2},
            {"channels": 8, "num_heads": 2, "kernel_size": 3},
            ((2, 8, 5, 7),),
        ),
        Config(
            "kernel-5-no-qkv-bias",
            {"dim": 16, "kernel_size": 5, "num_heads": 4, "qkv_bias": False},
            {"channels": 16, "num_heads": 4, "kernel_size": 5, "qkv_bias": False},
            ((1, 16, 6, 9),),
        ),
        Config(
            "smaller-than-kernel",
            {"dim": 8, "kernel_size": 5, "num_heads": 2},
            {"channels": 8, "num_heads": 2, "kernel_size": 5},
            ((2, 8, 3, 4),),
        ),
    ),
    patches=(
        (
            "from .functional import natten2dqkrpb, natten2dav",
            "from natten.functional import natten2dqkrpb, natten2dav",
        ),
    ),
    call=_call,
    note="NATTEN v0.14.4 (commit 6106a56) with its C++ CPU kernels built locally; the NAT repository "
    "(classification/nat.py, NATLayer) builds its attention from this class.",
)
