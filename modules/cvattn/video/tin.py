"""Temporal Interlacing Network.

Paper: "Temporal Interlacing Network", Hao Shao, Shengju Qian, Yu Liu, AAAI 2020, https://arxiv.org/abs/2001.06499.
Official code: https://github.com/deepcs233/TIN (``ops/temporal_interlace.py``, ``TemporalDeform``; the shift
itself is the CUDA op ``cuda_shift``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..clips import check_clip

GROUPS = (
    4  # the interlaced channels form 4 groups: offsets (d1, d2, -d1, -d2), frame weights (w1, w2, w1, w2)
)
OFFSET_RANGE = 2.0  # offsets are 4 * (sigmoid(z) - 0.5), in (-2, 2) frames


def interlace(x: torch.Tensor, offset: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Shift each channel group of a clip by a fractional number of frames, with linear interpolation.

    ``x`` is ``(N, C, T, H, W)`` with ``C`` split into ``G`` equal groups; group ``g`` of frame ``t`` is read at
    position ``t - offset[n, g]`` (linear interpolation between the two nearest frames, zero outside the clip)
    and scaled by ``weight[n, g, t]``. ``offset`` is ``(N, G)``, ``weight`` ``(N, G, T)``.
    """
    n, c, frames = x.shape[0], x.shape[1], x.shape[2]
    groups = offset.shape[1]
    t = torch.arange(frames, device=x.device, dtype=offset.dtype)
    pos = t.view(1, 1, -1, 1) - offset[:, :, None, None]  # where output frame t reads: (N, G, T, 1)
    # linear interpolation as a (T_out, T_in) matrix per sample and group: the "tent" 1 - |s - pos|
    sampler = torch.relu(1 - (t.view(1, 1, 1, -1) - pos).abs()) * weight[..., None]  # (N, G, T, T)
    xg = x.reshape(n, groups, c // groups, frames, -1)  # (N, G, C/G, T, H*W)
    out = sampler.unsqueeze(2).to(xg.dtype) @ xg  # (N, G, C/G, T, H*W)
    return out.reshape(x.shape)


@register("tin", kind="attention", inputs=(64, 4, 14, 14), channels=64)
class TemporalInterlace(nn.Module):
    """TIN: interlace channel groups across time by learned fractional offsets, weighted per frame.

    A quarter of the channels (``1/shift_div``) is split into 4 groups. From the clip's spatially pooled
    descriptor of those channels, an offset network (1-D temporal convolution to one channel, then two fully
    connected layers over the frames) predicts two offsets ``d1, d2`` in ``(-2, 2)`` frames shared by all frames
    of a clip; the groups move by ``d1, d2, -d1, -d2``. A fractional offset is applied by linear interpolation
    between the two nearest whole shifts (zeros where a frame leaves the clip), so the offsets are learned by
    back-propagation. A weight network (1-D temporal convolution) gives each output frame two weights in
    ``(0, 2)``, for the group pairs ``(1, 3)`` and ``(2, 4)``. The other channels pass unchanged.

    Args:
        channels: input channels ``C``; ``C // shift_div`` must be divisible by 4.
        shift_div: ``1/shift_div`` of the channels is interlaced (4, as in the official training scripts).
        num_frames: frames ``T`` the offset network's fully connected layers are built for (8, the paper's
            setting). A clip of another length has its temporal descriptor resampled to ``num_frames`` by
            adaptive average pooling before them (the identity when ``T == num_frames``).

    Shape:
        - Input: ``(N, C, T, H, W)``
        - Output: ``(N, C, T, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> tin = cvattn.create("tin", channels=64)
        >>> tin(torch.randn(2, 64, 8, 7, 7)).shape
        torch.Size([2, 64, 8, 7, 7])
        >>> tin(torch.randn(1, 64, 3, 7, 7)).shape  # another clip length
        torch.Size([1, 64, 3, 7, 7])

    Deviations:
        The official op shifts by the two whole offsets around each fractional one with a CUDA kernel and mixes
        the two results; here the same linear interpolation is one ``(T, T)`` sampling matrix per sample and
        group, so it runs on any device (same outputs and gradients; the offsets get their gradient through the
        interpolation weights, as in the official code). The official offset network needs exactly
        ``n_segment`` frames; the adaptive pooling for other clip lengths is an addition. The official module
        also returns the offsets and weights for logging; only the clip is returned here.

    Reference:
        Shao et al. Temporal Interlacing Network. AAAI 2020.
    """

    def __init__(self, channels: int, shift_div: int = 4, num_frames: int = 8) -> None:
        super().__init__()
        fold = channels // shift_div
        if fold < GROUPS or fold % GROUPS:
            raise ValueError(
                f"channels // shift_div = {channels} // {shift_div} = {fold} must be a positive multiple of {GROUPS}"
            )
        self.channels = channels
        self.fold = fold
        self.num_frames = num_frames
        # offset network: temporal conv to one channel, FC over the frames, ReLU, FC to the 2 offsets
        self.offset_conv = nn.Conv1d(fold, 1, 3, padding=1)
        self.offset_fc1 = nn.Linear(num_frames, num_frames)
        self.offset_fc2 = nn.Linear(num_frames, GROUPS // 2)
        # weight network: temporal conv to the 2 per-frame weights
        self.weight_conv = nn.Conv1d(fold, GROUPS // 2, 3, padding=1)
        with torch.no_grad():
            # offsets start at 0.5 frame (sigmoid(b) = 0.625), weights at 1 (as the official code)
            self.offset_fc2.bias.fill_(-math.log(1 / 0.625 - 1))
            self.weight_conv.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_clip(x, self.channels, type(self).__name__)
        x_def = x[:, : self.fold]
        z = x_def.mean((3, 4))  # pooled descriptor: (N, C/4, T)
        o = F.adaptive_avg_pool1d(self.offset_conv(z), self.num_frames).flatten(1)  # (N, num_frames)
        d = (
            2 * OFFSET_RANGE * (torch.sigmoid(self.offset_fc2(torch.relu(self.offset_fc1(o)))) - 0.5)
        )  # (N, 2)
        offset = torch.cat((d, -d), 1)  # (N, 4): d1, d2, -d1, -d2
        w = 2 * torch.sigmoid(self.weight_conv(z))  # (N, 2, T)
        weight = w.repeat(1, 2, 1)  # (N, 4, T): w1, w2, w1, w2
        return torch.cat((interlace(x_def, offset, weight), x[:, self.fold :]), 1)
