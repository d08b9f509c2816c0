"""TIN against the official ``ops/temporal_interlace.py`` (``TemporalDeform``), its CUDA shift read in PyTorch.

The official sampler calls ``cuda_shift.rtc_wrap.ShiftFeatureFunc``, a CUDA-only kernel (and a legacy autograd
Function that current PyTorch refuses). The stub below is a line-by-line PyTorch reading of its forward kernel
(``cuda_shift/src/cuda/shift_kernel_cuda.cu``, ``ShiftDataCudaForwardKernel``): for every sample, channel group and
frame ``i``, ``out[i + shift] = data[i]`` when ``i + shift`` lies in the clip, zeros elsewhere; autograd of these
copies is the kernel's backward (``data_grad[i - shift] = grad[i]``, no gradient to the integer shift). Everything
else (offset and weight networks, interpolation weights, grouping) is the official code. The official forward takes
frames ``(N*T, C, H, W)`` and returns ``(out, offsets, weights)``; ``call`` passes the clip as frames and keeps ``out``.
"""

from scripts.parity import Config, Recipe

SHIFT_STUB = '''
import torch


class ShiftFeatureFunc:
    """cuda_shift's ShiftDataCudaForwardKernel in PyTorch: data (N, T, C, HW), shift (N, G) int."""

    def __call__(self, data, shift):
        n, t, c, hw = data.shape
        groups = shift.shape[1]
        group_channels = c // groups
        rows = []
        for b in range(n):
            frames = [data.new_zeros(c, hw) for _ in range(t)]
            for j in range(groups):
                s = int(shift[b, j])
                cs = slice(j * group_channels, (j + 1) * group_channels)
                for i in range(t):
                    if 0 <= i + s < t:
                        frames[i + s] = torch.cat((frames[i + s][: cs.start], data[b, i, cs], frames[i + s][cs.stop :]))
            rows.append(torch.stack(frames))
        return torch.stack(rows)
'''


def _call(module, inputs):
    from cvattn.clips import from_frames, to_frames

    (x,) = inputs
    out, _offsets, _weights = module(to_frames(x))
    return from_frames(out, x.shape[2])


RECIPE = Recipe(
    module="tin",
    repo="https://github.com/deepcs233/TIN",
    file="ops/temporal_interlace.py",
    cls="TemporalDeform",
    configs=(
        Config(
            "default-8-frames",
            {"in_channels": 32, "n_segment": 8, "shift_div": 4},
            {"channels": 32},
            ((2, 32, 8, 3, 4),),
        ),
        Config(
            "div8-4-frames",
            {"in_channels": 64, "n_segment": 4, "shift_div": 8},
            {"channels": 64, "shift_div": 8, "num_frames": 4},
            ((1, 64, 4, 3, 3),),
        ),
        Config(
            "div2-6-frames",
            {"in_channels": 16, "n_segment": 6, "shift_div": 2},
            {"channels": 16, "shift_div": 2, "num_frames": 6},
            ((2, 16, 6, 3, 3),),
        ),
    ),
    rename=(
        (r"^biasnet\.net\.conv\.", "offset_conv."),
        (r"^biasnet\.net\.fc\.", "offset_fc1."),
        (r"^biasnet\.net\.lastlayer\.", "offset_fc2."),
        (r"^weightnet\.net\.lastlayer\.", "weight_conv."),
    ),
    stubs={"cuda_shift": "", "cuda_shift.rtc_wrap": SHIFT_STUB},
    call=_call,
    note=(
        "cuda_shift.rtc_wrap.ShiftFeatureFunc (CUDA only) is replaced by a stub that reads its forward kernel in "
        "PyTorch (frame i of a group goes to frame i + shift, zeros elsewhere); the rest is the official code."
    ),
)
