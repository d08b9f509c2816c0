"""CARAFE against the official ``carafe/carafe.py`` (``CARAFEPack``: channel compressor, content encoder, kernel
normaliser), with the CUDA reassembly replaced by a pure-PyTorch reading of ``CARAFENAIVEForward`` in
``carafe/src/cuda/carafe_naive_cuda_kernel.cu``.

The official operator only runs on CUDA (``carafe_ext`` and ``carafe_naive_ext`` are compiled extensions, and
the CPU branch raises ``NotImplementedError``). Its naive kernel computes, for output pixel ``(ph, pw)`` of
channel ``c``, the sum over ``iy, ix`` in the ``k x k`` window around ``(ph // s, pw // s)`` (positions outside
the map skipped) of ``feature[c, iy, ix] * mask[(group(c) * k + iy') * k + ix', ph, pw]``; ``_READING`` does
exactly that, one window offset at a time, with autograd for the backward. The compressor, encoder and the
kernel normaliser (pixel shuffle, softmax) run as the official file has them.
"""

from scripts.parity import Config, Recipe

_READING = """
import torch
import torch.nn.functional as F


def reassemble(features, masks, kernel_size, group_size, scale_factor):
    n, c, h, w = features.shape
    r = (kernel_size - 1) // 2
    padded = F.pad(features, (r, r, r, r))  # positions outside the map contribute nothing
    masks = masks.view(n, group_size, kernel_size, kernel_size, h * scale_factor, w * scale_factor)
    group_of_channel = torch.arange(c) // (c // group_size)
    out = features.new_zeros(n, c, h * scale_factor, w * scale_factor)
    for my in range(kernel_size):
        for mx in range(kernel_size):
            # feature at (ph // s + my - r, pw // s + mx - r) for every output pixel (ph, pw)
            source = padded[:, :, my : my + h, mx : mx + w]
            source = source.repeat_interleave(scale_factor, 2).repeat_interleave(scale_factor, 3)
            out = out + source * masks[:, group_of_channel, my, mx]
    return out
"""

RECIPE = Recipe(
    module="carafe",
    repo="https://github.com/myownskyW7/CARAFE",
    file="carafe/carafe.py",
    cls="CARAFEPack",
    configs=(
        Config(
            "default-x2",
            {"channels": 16, "scale_factor": 2, "compressed_channels": 8},
            {"channels": 16, "scale_factor": 2, "compressed_channels": 8},
            ((2, 16, 5, 7),),
        ),
        Config(
            "x3-k3-groups2-encoder5-dilation2",
            {
                "channels": 12,
                "scale_factor": 3,
                "up_kernel": 3,
                "up_group": 2,
                "encoder_kernel": 5,
                "encoder_dilation": 2,
                "compressed_channels": 6,
            },
            {
                "channels": 12,
                "scale_factor": 3,
                "up_kernel": 3,
                "up_group": 2,
                "encoder_kernel": 5,
                "encoder_dilation": 2,
                "compressed_channels": 6,
            },
            ((2, 12, 4, 6),),
        ),
    ),
    patches=(
        ("import carafe_ext, carafe_naive_ext", "import _carafe_reading"),
        (
            "x = carafe(x, mask, self.up_kernel, self.up_group, self.scale_factor)",
            "x = _carafe_reading.reassemble(x, mask, self.up_kernel, self.up_group, self.scale_factor)",
        ),
    ),
    stubs={"_carafe_reading": _READING},
    note=(
        "The CUDA-only reassembly operator is replaced by a pure-PyTorch reading of its naive CUDA kernel "
        "(in the recipe); the rest of CARAFEPack runs as published."
    ),
)
