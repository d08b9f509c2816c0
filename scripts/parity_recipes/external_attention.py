"""External attention against the official ``model_torch.py`` (``External_attention``): the official memories
are ``nn.Conv1d`` on ``(N, C, HW)`` and ours ``nn.Linear`` on tokens, so their ``(out, in, 1)`` weights are
squeezed. The memory size is fixed at 64 in the official class."""

from scripts.parity import Config, Recipe

_BN_LIB = "from torch.nn import BatchNorm2d as SynchronizedBatchNorm2d\n"


def _convert(name, value):
    return value[..., 0] if name.startswith("memory_") else value


RECIPE = Recipe(
    module="external-attention",
    repo="https://github.com/MenghaoGuo/EANet",
    file="model_torch.py",
    cls="External_attention",
    configs=(
        Config("default", {"c": 8}, {"channels": 8, "memory_units": 64}, ((2, 8, 5, 7),)),
        Config("wider", {"c": 16}, {"channels": 16, "memory_units": 64}, ((1, 16, 6, 9),)),
    ),
    rename=(
        (r"^conv1\.", "proj_in."),
        (r"^linear_0\.", "memory_key."),
        (r"^linear_1\.", "memory_value."),
        (r"^conv2\.0\.", "proj_out."),
        (r"^conv2\.1\.", "norm."),
    ),
    convert=_convert,
    stubs={"bn_lib": "", "bn_lib.nn": "", "bn_lib.nn.modules": _BN_LIB},
    note=(
        "bn_lib's SynchronizedBatchNorm2d (the network's multi-GPU BatchNorm, not in the repository) is stubbed "
        "by torch.nn.BatchNorm2d, which it equals on one device; settings.py (BN_MOM = 0.1) is imported as is."
    ),
)
