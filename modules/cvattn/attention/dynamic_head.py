"""Dynamic Head: scale-, spatial- and task-aware attention over a feature pyramid.

Paper: "Dynamic Head: Unifying Object Detection Heads with Attentions", Xiyang Dai, Yinpeng Chen, Bin Xiao,
Dongdong Chen, Mengchen Liu, Lu Yuan, Lei Zhang, CVPR 2021, https://arxiv.org/abs/2106.08322.
Official code: https://github.com/microsoft/DynamicHead (``dyhead/dyhead.py``: ``DyConv``; ``dyhead/dyrelu.py``:
``DYReLU``; the modulated deformable convolution is the CUDA extension of ``dyhead/deform.py``, written here in
PyTorch with ``grid_sample``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import check_input


def _hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    return F.relu6(x + 3) / 6


@fx.wrap
def _modulated_deform_conv3x3(
    x: torch.Tensor,
    offset: torch.Tensor,
    mask: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    stride: int,
) -> torch.Tensor:
    """Modulated deformable 3x3 convolution (DCN v2, padding 1, one offset group): masked bilinear samples, zero
    outside the map, then one matmul. ``offset`` ``(N, 18, h, w)`` holds ``(dy, dx)`` per tap (taps row-major),
    ``mask`` ``(N, 9, h, w)``; each sample's values are read with the output's size, as the official kernel does."""
    n, c, h, w = x.shape
    ho, wo = (h - 1) // stride + 1, (w - 1) // stride + 1
    offset = offset.flatten(1)[:, : 18 * ho * wo].view(n, 9, 2, ho, wo)
    mask = mask.flatten(1)[:, : 9 * ho * wo].view(n, 1, 9, ho, wo)
    ys = torch.arange(ho, dtype=offset.dtype, device=x.device) * stride - 1
    xs = torch.arange(wo, dtype=offset.dtype, device=x.device) * stride - 1
    taps = torch.arange(3, dtype=offset.dtype, device=x.device)
    py = ys.view(1, 1, ho, 1) + taps.repeat_interleave(3).view(1, 9, 1, 1) + offset[:, :, 0]  # (N, 9, Ho, Wo)
    px = xs.view(1, 1, 1, wo) + taps.repeat(3).view(1, 9, 1, 1) + offset[:, :, 1]
    grid = torch.stack(((2 * px + 1) / w - 1, (2 * py + 1) / h - 1), -1).to(x.dtype)  # grid_sample's [-1, 1]
    cols = F.grid_sample(x, grid.view(n, 9 * ho, wo, 2), "bilinear", "zeros", align_corners=False)
    cols = cols.view(n, c, 9, ho, wo) * mask  # (N, C, 9, Ho, Wo), modulated
    out = torch.matmul(weight.view(weight.shape[0], -1), cols.view(n, c * 9, ho * wo))
    return out.view(n, -1, ho, wo) + bias.view(1, -1, 1, 1)


@fx.wrap
def _check_pyramid(levels: tuple[torch.Tensor, ...], channels: int, num_levels: int) -> None:
    if len(levels) != num_levels:
        raise ValueError(f"expected {num_levels} pyramid levels, got {len(levels)}")
    for i, x in enumerate(levels):
        check_input(x, channels, name=f"level {i}")
        if i and x.shape[-2:] != tuple((s - 1) // 2 + 1 for s in levels[i - 1].shape[-2:]):
            raise ValueError(
                f"level {i}: expected the size of level {i - 1} halved (rounded up), "
                f"got {tuple(x.shape[-2:])} after {tuple(levels[i - 1].shape[-2:])}"
            )


class DyHeadDeformConv(nn.Module):
    """Modulated deformable 3x3 convolution followed by GroupNorm (16 groups), the official ``Conv3x3Norm``."""

    def __init__(self, channels: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        bound = 1 / math.sqrt(channels * 9)  # official reset_parameters: U(-1/sqrt(n), 1/sqrt(n)), zero bias
        self.weight = nn.Parameter(torch.empty(channels, channels, 3, 3).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.norm = nn.GroupNorm(16, channels)

    def forward(self, x: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.norm(_modulated_deform_conv3x3(x, offset, mask, self.weight, self.bias, self.stride))


class DyHeadTaskAttention(nn.Module):
    """Task-aware attention (DyReLU-B): ``max(a1 x + b1, a2 x + b2)`` with per-channel ``a, b`` from the pooled map."""

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        self.channels = channels
        self.fc1 = nn.Linear(channels, channels // reduction)
        self.fc2 = nn.Linear(channels // reduction, 4 * channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        theta = _hard_sigmoid(self.fc2(F.relu(self.fc1(x.mean((2, 3))))))  # (N, 4C) in [0, 1]
        theta = theta.view(-1, 4, self.channels, 1, 1)
        a1 = 2 * theta[:, 0]  # (theta - 0.5) * lambda_a + 1, lambda_a = 2
        b1 = theta[:, 1] - 0.5
        a2 = 2 * theta[:, 2] - 1  # (theta - 0.5) * lambda_a + 0
        b2 = theta[:, 3] - 0.5
        return torch.maximum(x * a1 + b1, x * a2 + b2)


@register(
    "dynamic-head",
    kind="fusion",
    outputs=3,
    inputs=((64, 32, 32), (64, 16, 16), (64, 8, 8)),
    odd_inputs=((64, 13, 17), (64, 7, 9), (64, 4, 5)),
    channels=64,
    num_levels=3,
)
class DynamicHead(nn.Module):
    """One Dynamic Head block: scale-, spatial- and task-aware attention applied in turn to a feature pyramid.

    For every level ``l`` a 3x3 conv on that level predicts 9 offsets and 9 masks (sigmoid). Spatial-aware
    attention: a modulated deformable 3x3 conv with these offsets and masks, followed by GroupNorm, is applied
    to level ``l`` itself, to the finer level ``l - 1`` with stride 2 and to the coarser level ``l + 1``
    (then bilinearly upsampled to level ``l``); the three convs are shared by all levels. Scale-aware
    attention: each of these (two at the ends of the pyramid) is weighted by
    ``hard_sigmoid(ReLU(conv1x1(GAP(f))))``, one scalar per sample, and they are averaged. Task-aware
    attention: DyReLU, ``max(a1 x + b1, a2 x + b2)`` with per-channel coefficients from a two-layer MLP on the
    pooled result (reduction 4, ``a1 = 1``, ``a2 = 0``, ``b = 0`` at the middle of the hard sigmoid). The
    paper's head stacks six such blocks (``nn.Sequential`` of them works, since each returns the pyramid).

    Args:
        channels: channels ``C`` of every level (a multiple of 16, for the GroupNorm).
        num_levels: number of pyramid levels, finest first; each level is the previous one's size halved
            (rounded up), as an FPN gives.
        reduction: reduction of the task-aware attention's MLP (official 4).

    Shape:
        - Input: ``num_levels`` maps ``(N, C, H_l, W_l)``, finest first, ``H_{l+1} = ceil(H_l / 2)``
        - Output: a tuple of maps of the same shapes

    Examples:
        >>> import torch, cvattn
        >>> head = cvattn.create("dynamic-head", channels=64, num_levels=3)
        >>> p3, p4, p5 = torch.randn(2, 64, 32, 32), torch.randn(2, 64, 16, 16), torch.randn(2, 64, 8, 8)
        >>> [tuple(y.shape) for y in head(p3, p4, p5)]
        [(2, 64, 32, 32), (2, 64, 16, 16), (2, 64, 8, 8)]

    Deviations:
        The modulated deformable convolution is computed with ``grid_sample`` and a matmul instead of the
        official CUDA kernel (same bilinear sampling, zero outside the map). For the coarser level the official
        code passes the offsets and masks predicted at level ``l`` (size ``H_l x W_l``) to a convolution whose
        output has the coarser size; its kernel reads each sample's offset and mask buffers with that smaller
        size, i.e. the first ``18 H_{l+1} W_{l+1}`` (and ``9 H_{l+1} W_{l+1}``) values in memory order, not a
        resized field. This module reads them the same way, so trained official weights behave identically.
        The official ``DYReLU`` takes ``in_channels`` for its MLP and is applied to the ``out_channels``
        output, so it runs only with equal widths; this module has one ``channels``.

    Reference:
        Dai et al. Dynamic Head: Unifying Object Detection Heads with Attentions. CVPR 2021.
    """

    def __init__(self, channels: int, num_levels: int = 5, reduction: int = 4) -> None:
        super().__init__()
        if channels % 16:
            raise ValueError(f"channels must be a multiple of 16 (GroupNorm of 16 groups), got {channels}")
        if num_levels < 1:
            raise ValueError(f"num_levels must be at least 1, got {num_levels}")
        self.channels = channels
        self.num_levels = num_levels
        self.offset = nn.Conv2d(channels, 27, 3, padding=1)  # 2 x 9 offsets, 9 masks
        self.spatial_conv_high = DyHeadDeformConv(channels, stride=1)  # on level l + 1, then upsampled
        self.spatial_conv_mid = DyHeadDeformConv(channels, stride=1)  # on level l
        self.spatial_conv_low = DyHeadDeformConv(channels, stride=2)  # on level l - 1
        self.scale_attn = nn.Conv2d(channels, 1, 1)
        nn.init.normal_(self.scale_attn.weight, 0, 0.01)
        nn.init.zeros_(self.scale_attn.bias)
        self.task_attn = DyHeadTaskAttention(channels, reduction)

    def forward(self, *levels: torch.Tensor) -> tuple[torch.Tensor, ...]:
        _check_pyramid(levels, self.channels, self.num_levels)
        out = []
        for i in range(self.num_levels):
            x = levels[i]
            offset_mask = self.offset(x)
            offset, mask = offset_mask[:, :18], offset_mask[:, 18:].sigmoid()
            feats = [self.spatial_conv_mid(x, offset, mask)]
            if i > 0:
                feats.append(self.spatial_conv_low(levels[i - 1], offset, mask))
            if i < self.num_levels - 1:
                high = self.spatial_conv_high(levels[i + 1], offset, mask)
                feats.append(F.interpolate(high, size=x.shape[-2:], mode="bilinear", align_corners=True))
            # scale-aware attention: one weight per sample and pyramid level, then the mean over levels
            fused = sum(
                f * _hard_sigmoid(F.relu(self.scale_attn(f.mean((2, 3), keepdim=True)))) for f in feats
            )
            out.append(self.task_attn(fused / len(feats)))
        return tuple(out)
