"""DySample: an upsampler that learns where to sample, with point sampling instead of dynamic kernels.

Paper: "Learning to Upsample by Learning to Sample", Wenze Liu, Hao Lu, Hongtao Fu, Zhiguo Cao, ICCV 2023,
https://arxiv.org/abs/2308.15085. Official code: https://github.com/tiny-smart/dysample (``dysample.py``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input


@register("dysample", kind="block", inputs=(64, 16, 16), channels=64, scale_factor=2)
class DySample(nn.Module):
    """DySample: each output pixel bilinearly samples the input at a position offset by a learned amount.

    A 1x1 conv predicts, per channel group, an ``(x, y)`` offset for each of the ``s x s`` output pixels a
    source pixel covers; the offsets are scaled by a static factor 0.25 (or, with ``dyscope``, by
    ``0.5 sigmoid(.)`` of a second 1x1 conv) and added to the positions of plain bilinear upsampling
    (``+-1/4`` pixel for ``s = 2``). The output is ``grid_sample`` of the input at the moved positions
    (bilinear, border padding). In the ``"lp"`` style the offsets come from the low-resolution input
    ("linear" then pixel shuffle); in ``"pl"`` from its pixel-shuffled version (DySample-S). Without dynamic
    convolution the upsampler needs only ``2 G s^2 C`` weights and the standard ``grid_sample``.

    Args:
        channels: input (and output) channels.
        scale_factor: upsampling ratio ``s`` (2).
        style: ``"lp"`` (offsets from the input, the default) or ``"pl"`` (from its pixel shuffle).
        groups: channel groups with their own offsets (4).
        dyscope: a dynamic offset scope (DySample+) instead of the static factor 0.25.

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, s * H, s * W)``

    Examples:
        >>> import torch, cvattn
        >>> up = cvattn.create("dysample", channels=64, scale_factor=2)
        >>> up(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 32, 32])

    Reference:
        Liu et al. Learning to Upsample by Learning to Sample. ICCV 2023.
    """

    def __init__(
        self,
        channels: int,
        scale_factor: int = 2,
        style: str = "lp",
        groups: int = 4,
        dyscope: bool = False,
    ) -> None:
        super().__init__()
        if style not in ("lp", "pl"):
            raise ValueError(f"style must be 'lp' or 'pl', got {style!r}")
        if channels % groups:
            raise ValueError(f"channels ({channels}) must be divisible by groups ({groups})")
        if style == "pl" and channels % (scale_factor * scale_factor):
            raise ValueError(f"style 'pl' needs channels ({channels}) divisible by scale_factor**2")
        self.channels = channels
        self.scale_factor = scale_factor
        self.style = style
        self.groups = groups
        s = scale_factor
        in_offset = channels // (s * s) if style == "pl" else channels
        out_offset = 2 * groups if style == "pl" else 2 * groups * s * s
        self.offset = nn.Conv2d(in_offset, out_offset, 1)
        nn.init.normal_(self.offset.weight, std=0.001)
        nn.init.zeros_(self.offset.bias)
        self.scope = nn.Conv2d(in_offset, out_offset, 1, bias=False) if dyscope else None
        if self.scope is not None:
            nn.init.zeros_(self.scope.weight)
        # positions of bilinear upsampling inside a source pixel, laid out (x|y, group, row, column)
        steps = (torch.arange(s) - (s - 1) / 2) / s
        init = torch.stack((steps.view(1, s).expand(s, s), steps.view(s, 1).expand(s, s)))  # (2, s, s)
        self.register_buffer(
            "init_pos", init.unsqueeze(1).expand(2, groups, s, s).reshape(1, -1, 1, 1).clone()
        )

    def _offsets(self, x: torch.Tensor) -> torch.Tensor:
        """Offsets in source pixels at the output resolution: ``(N, 2 * G, s * H, s * W)``."""
        s = self.scale_factor
        if self.style == "lp":
            raw = self.offset(x)
            scaled = raw * 0.25 if self.scope is None else raw * self.scope(x).sigmoid() * 0.5
            return F.pixel_shuffle(scaled + self.init_pos, s)
        x_hr = F.pixel_shuffle(x, s)
        raw = self.offset(x_hr)
        scaled = raw * 0.25 if self.scope is None else raw * self.scope(x_hr).sigmoid() * 0.5
        h, w = x.shape[-2:]
        return scaled + self.init_pos.view(1, -1, s, s).repeat(1, 1, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h, w = x.shape
        s, g = self.scale_factor, self.groups
        offset = self._offsets(x).view(n, 2, g, h * s, w * s)
        # sampling positions: the centre of each output pixel's source pixel, moved by the offset
        src_x = torch.div(torch.arange(w * s, device=x.device), s, rounding_mode="floor").to(x.dtype) + 0.5
        src_y = torch.div(torch.arange(h * s, device=x.device), s, rounding_mode="floor").to(x.dtype) + 0.5
        grid_x = 2 * (src_x + offset[:, 0]) / w - 1  # grid_sample's [-1, 1] (align_corners=False)
        grid_y = 2 * (src_y.view(-1, 1) + offset[:, 1]) / h - 1
        grid = torch.stack((grid_x, grid_y), -1).view(n * g, h * s, w * s, 2)
        out = F.grid_sample(
            x.reshape(n * g, c // g, h, w), grid, mode="bilinear", padding_mode="border", align_corners=False
        )
        return out.view(n, c, h * s, w * s)
