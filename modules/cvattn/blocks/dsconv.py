"""Dynamic Snake Convolution (DSConv).

Paper: "Dynamic Snake Convolution based on Topological Geometric Constraints for Tubular Structure Segmentation",
Yaolei Qi, Yuting He, Xiaoming Qi, Yuan Zhang, Guanyu Yang, ICCV 2023, https://arxiv.org/abs/2307.08388.
Official code: https://github.com/YaoleiQi/DSCNet (``DSCNet_2D_opensource/Code/DRIVE/S3_DSConv_pro.py``,
``DSConv_pro``, the authors' optimised version of ``DSCNet/S3_DSConv.py``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import check_input


def _snake_grid(swing: torch.Tensor, morph: int) -> torch.Tensor:
    """grid_sample's grid for the snake kernels: ``swing`` ``(N, K, H, W)`` is each tap's accumulated offset
    across the kernel's axis; returns ``(N, H*K, W, 2)`` (morph 0) or ``(N, H, W*K, 2)`` (morph 1) in [-1, 1]."""
    n, k, h, w = swing.shape
    rows = torch.arange(h, dtype=swing.dtype, device=swing.device).view(1, 1, h, 1)
    cols = torch.arange(w, dtype=swing.dtype, device=swing.device).view(1, 1, 1, w)
    taps = (torch.arange(k, dtype=swing.dtype, device=swing.device) - k // 2).view(1, k, 1, 1)
    if morph == 0:  # the kernel runs along x; each tap swings in y
        y, x = rows + swing, (cols + taps).expand(n, k, h, w)
        order = (0, 2, 1, 3)  # (N, H, K, W): the K taps of a pixel stacked in rows
    else:  # the kernel runs along y; each tap swings in x
        y, x = (rows + taps).expand(n, k, h, w), cols + swing
        order = (0, 2, 3, 1)  # (N, H, W, K): the K taps of a pixel side by side in columns
    # positions outside the map are clamped to its border; then scaled to [-1, 1] (align_corners=True)
    y = -1 + (2 / max(h - 1, 1)) * y.clamp(0, h - 1)
    x = -1 + (2 / max(w - 1, 1)) * x.clamp(0, w - 1)
    grid = torch.stack((x, y), dim=-1).permute(*order, 4)
    return grid.reshape(n, h * k, w, 2) if morph == 0 else grid.reshape(n, h, w * k, 2)


fx.wrap("_snake_grid")  # a leaf while tracing: it reads the map's (symbolic) size


@register("dsconv", kind="block", inputs=(32, 16, 16), in_channels=32, out_channels=32)
class DynamicSnakeConv(nn.Module):
    """Dynamic snake convolution: a 1-D kernel of ``K`` taps whose taps swing, one after another, to follow a
    thin tubular structure.

    A 3x3 conv (GroupNorm, tanh) predicts an offset in [-1, 1] for every tap and pixel. The centre tap stays
    at the pixel; tap ``c + i`` moves by the sum of the offsets of taps ``c + 1 .. c + i`` (and symmetrically
    towards ``c - i``), times ``extend_scope``: each tap is placed relative to its neighbour, so the kernel
    bends like a snake but stays connected, unlike deformable convolution's free offsets. With ``morph=0``
    the kernel lies along the x-axis (tap ``j`` at column ``x + j - c``) and swings in y; with ``morph=1`` it
    lies along y and swings in x. The input is sampled bilinearly at the ``K`` positions of every pixel
    (positions outside the map are clamped to its border), a ``K x 1`` (or ``1 x K``) conv with stride ``K``
    combines the taps, and GroupNorm (groups of 4 channels) and ReLU follow. DSCNet runs a standard conv and
    the two morphs side by side and fuses them.

    Args:
        in_channels: input channels.
        out_channels: output channels, a multiple of 4 (GroupNorm with ``out_channels // 4`` groups).
        kernel_size: taps ``K``, odd (paper: 9).
        extend_scope: scale of the accumulated offsets, in pixels per tap (paper: 1).
        morph: 0 for the kernel along the x-axis, 1 for the kernel along the y-axis.

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> snake_x = cvattn.create("dsconv", in_channels=32, out_channels=64, morph=0)
        >>> snake_y = cvattn.create("dsconv", in_channels=32, out_channels=64, morph=1)
        >>> x = torch.randn(2, 32, 16, 16)
        >>> snake_x(x).shape, snake_y(x).shape
        (torch.Size([2, 64, 16, 16]), torch.Size([2, 64, 16, 16]))

    Deviations:
        Follows the authors' optimised ``DSConv_pro`` (GroupNorm on the offsets, ``grid_sample``), not the first
        ``DSConv`` (BatchNorm on the offsets, its own bilinear sampler). The official class builds both the
        ``K x 1`` and the ``1 x K`` conv and uses the one of its ``morph``; only that one is built here, so there
        are ``in_channels * out_channels * K + out_channels`` parameters fewer. The offset conv still predicts
        both offset halves (y and x), of which each morph uses one: the other half shares GroupNorm groups with
        it, as in the official code. A map of height or width 1 is sampled at its only row or column (the
        official scaling divides by zero there). The ``device`` and unused ``if_offset`` arguments are left out.

    Reference:
        Qi, He, Qi, Zhang, Yang. Dynamic Snake Convolution based on Topological Geometric Constraints for
        Tubular Structure Segmentation. ICCV 2023.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 9,
        extend_scope: float = 1.0,
        morph: int = 0,
    ) -> None:
        super().__init__()
        if morph not in (0, 1):
            raise ValueError(f"expected morph 0 (along x) or 1 (along y), got {morph}")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"expected an odd kernel_size, got {kernel_size}")
        if out_channels < 4 or out_channels % 4:
            raise ValueError(f"expected out_channels a positive multiple of 4, got {out_channels}")
        self.in_channels = in_channels
        self.kernel_size = kernel_size
        self.extend_scope = extend_scope
        self.morph = morph
        self.offset_conv = nn.Conv2d(in_channels, 2 * kernel_size, 3, padding=1)
        self.gn_offset = nn.GroupNorm(kernel_size, 2 * kernel_size)
        taps = (kernel_size, 1) if morph == 0 else (1, kernel_size)
        self.dsc_conv = nn.Conv2d(in_channels, out_channels, taps, stride=taps)
        self.gn = nn.GroupNorm(out_channels // 4, out_channels)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        k, c = self.kernel_size, self.kernel_size // 2
        offset = torch.tanh(self.gn_offset(self.offset_conv(x)))  # (N, 2K, H, W): y offsets, then x offsets
        delta = offset[:, :k] if self.morph == 0 else offset[:, k:]  # (N, K, H, W), across the kernel's axis
        # each tap's position relative to its neighbour towards the centre: offsets accumulate outwards
        left = torch.cumsum(delta[:, :c].flip(1), dim=1).flip(1)
        right = torch.cumsum(delta[:, c + 1 :], dim=1)
        swing = torch.cat((left, torch.zeros_like(delta[:, :1]), right), dim=1) * self.extend_scope
        grid = _snake_grid(swing, self.morph).to(x.dtype)
        sampled = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
        return self.act(
            self.gn(self.dsc_conv(sampled))
        )  # the K taps of each pixel combined by a strided conv
