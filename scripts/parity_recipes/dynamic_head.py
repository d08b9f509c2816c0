"""Dynamic Head against the official ``dyhead/dyhead.py`` (``DyConv``, one block of the head), its CUDA modulated
deformable convolution replaced by a pure-PyTorch reading of ``dyhead/csrc/cuda/deform_conv_cuda.cu``
(``modulated_deform_conv_cuda_forward``) and ``deform_conv_kernel_cuda.cu``
(``modulated_deformable_im2col_gpu_kernel``, ``dmcn_im2col_bilinear``), in this recipe; gradients by autograd
through that reading.

The official block takes the pyramid as a dict and returns one; the adapter passes the levels in order. One pyramid
of three levels (so every branch runs: the finest and coarsest levels have two, the middle one three), with an even
and an odd side (the stride-2 output and the coarser sizes round up), at 16 channels (the GroupNorm's 16 groups):
the weights alone are 90 kB in float64, so one configuration keeps the fixture small.
"""

from __future__ import annotations

from typing import Any

from scripts.parity import Config, Recipe

_DEFORM = '''
import math

import torch
from torch import nn
from torch.nn.modules.utils import _pair


def _modulated_deform_conv(input, offset, mask, weight, bias, stride, padding, dilation):
    """modulated_deform_conv_cuda_forward: per sample, im2col of the modulated bilinear samples, then addmm."""
    n, c, height, width = input.shape
    c_out, _, kh, kw = weight.shape
    height_out = (height + 2 * padding - (dilation * (kh - 1) + 1)) // stride + 1
    width_out = (width + 2 * padding - (dilation * (kw - 1) + 1)) // stride + 1
    hw = height_out * width_out
    h_in = (torch.arange(height_out, dtype=input.dtype) * stride - padding)[:, None]
    w_in = (torch.arange(width_out, dtype=input.dtype) * stride - padding)[None, :]
    outs = []
    for b in range(n):
        # the kernel gets offset[b] and mask[b] as raw buffers indexed with height_col x width_col
        data_offset = offset[b].reshape(-1)
        data_mask = mask[b].reshape(-1)
        data_im = input[b].reshape(c, height * width)
        rows = []
        for i in range(kh):
            for j in range(kw):
                t = i * kw + j
                offset_h = data_offset[2 * t * hw : (2 * t + 1) * hw].view(height_out, width_out)
                offset_w = data_offset[(2 * t + 1) * hw : (2 * t + 2) * hw].view(height_out, width_out)
                m = data_mask[t * hw : (t + 1) * hw].view(height_out, width_out)
                h_im = h_in + i * dilation + offset_h
                w_im = w_in + j * dilation + offset_w
                inside = (h_im > -1) & (w_im > -1) & (h_im < height) & (w_im < width)
                # dmcn_im2col_bilinear
                h_low, w_low = torch.floor(h_im), torch.floor(w_im)
                lh, lw = h_im - h_low, w_im - w_low
                hh, hw_ = 1 - lh, 1 - lw
                val = 0
                for dy, dx, weight_ in ((0, 0, hh * hw_), (0, 1, hh * lw), (1, 0, lh * hw_), (1, 1, lh * lw)):
                    y, x = h_low + dy, w_low + dx
                    ok = (y >= 0) & (y <= height - 1) & (x >= 0) & (x <= width - 1)
                    idx = (y.clamp(0, height - 1) * width + x.clamp(0, width - 1)).long().view(-1)
                    v = data_im[:, idx].view(c, height_out, width_out) * ok
                    val = val + weight_ * v
                rows.append(val * inside * m)  # (C, Ho, Wo): *data_col_ptr = val * mask
        columns = torch.stack(rows, 1).reshape(c * kh * kw, hw)  # row c_im * kh * kw + tap
        outs.append((weight.reshape(c_out, -1) @ columns).view(c_out, height_out, width_out))
    out = torch.stack(outs)
    return out if bias is None else out + bias.view(1, -1, 1, 1)


class ModulatedDeformConv(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 deformable_groups=1, bias=True):
        super().__init__()
        assert groups == 1 and deformable_groups == 1
        self.in_channels = in_channels
        self.kernel_size = _pair(kernel_size)
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.weight = nn.Parameter(torch.Tensor(out_channels, in_channels, *self.kernel_size))
        self.bias = nn.Parameter(torch.Tensor(out_channels)) if bias else None
        n = in_channels * self.kernel_size[0] * self.kernel_size[1]
        self.weight.data.uniform_(-1.0 / math.sqrt(n), 1.0 / math.sqrt(n))
        if self.bias is not None:
            self.bias.data.zero_()

    def forward(self, input, offset, mask):
        return _modulated_deform_conv(input, offset, mask, self.weight, self.bias, self.stride, self.padding,
                                      self.dilation)
'''
"""The official CUDA operation in PyTorch, each step after the kernel it reads."""


def _call(module: Any, inputs: Any) -> Any:
    return tuple(module({f"p{3 + i}": x for i, x in enumerate(inputs)}).values())


def _config(name: str, channels: int, *shapes: tuple[int, ...], batch: int = 2) -> Config:
    return Config(
        name,
        {"in_channels": channels, "out_channels": channels},
        {"channels": channels, "num_levels": len(shapes)},
        tuple((batch, channels, *s) for s in shapes),
    )


RECIPE = Recipe(
    module="dynamic-head",
    repo="https://github.com/microsoft/DynamicHead",
    file="dyhead/dyhead.py",
    cls="DyConv",
    configs=(_config("3-levels", 16, (6, 5), (3, 3), (2, 2)),),
    rename=(
        (r"^DyConv\.0\.conv\.", "spatial_conv_high."),
        (r"^DyConv\.1\.conv\.", "spatial_conv_mid."),
        (r"^DyConv\.2\.conv\.", "spatial_conv_low."),
        (r"^DyConv\.0\.bn\.", "spatial_conv_high.norm."),
        (r"^DyConv\.1\.bn\.", "spatial_conv_mid.norm."),
        (r"^DyConv\.2\.bn\.", "spatial_conv_low.norm."),
        (r"^AttnConv\.1\.", "scale_attn."),
        (r"^relu\.fc\.0\.", "task_attn.fc1."),
        (r"^relu\.fc\.2\.", "task_attn.fc2."),
    ),
    patches=(
        ("from .deform import ModulatedDeformConv", "from _dyhead_deform_reading import ModulatedDeformConv"),
        ("from .dyrelu import h_sigmoid, DYReLU", "from dyrelu import h_sigmoid, DYReLU"),
    ),
    stubs={
        "detectron2": "",
        "detectron2.modeling": "",
        "detectron2.modeling.backbone": "from torch.nn import Module as Backbone",
        "_dyhead_deform_reading": _DEFORM,
    },
    call=_call,
    note="The modulated deformable convolution is a CUDA extension (dyhead._C; its autograd Function raises "
    "NotImplementedError on CPU); the stub replaces ModulatedDeformConv by a pure-PyTorch reading of its forward "
    "kernels (in this recipe), keeping the kernel's raw reading of each sample's offset and mask buffers with the "
    "output's size. detectron2 (for the unused Backbone base class) is stubbed.",
)
