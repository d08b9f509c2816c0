"""Temporal Shift Module.

Paper: "TSM: Temporal Shift Module for Efficient Video Understanding", Ji Lin, Chuang Gan, Song Han, ICCV 2019,
https://arxiv.org/abs/1811.08383. Official code: https://github.com/mit-han-lab/temporal-shift-module
(``ops/temporal_shift.py``, ``TemporalShift``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..clips import check_clip, from_frames, to_frames

PLACES = ("in-place", "residual")


def temporal_shift(x: torch.Tensor, fold: int) -> torch.Tensor:
    """Shift channels ``[0, fold)`` one frame back and ``[fold, 2*fold)`` one frame forward in a clip
    ``(N, C, T, H, W)``, zero-filling the frame that falls off the clip; the other channels stay."""
    back = F.pad(x[:, :fold, 1:], (0, 0, 0, 0, 0, 1))  # frame t takes frame t+1; the last frame is zero
    forward = F.pad(x[:, fold : 2 * fold, :-1], (0, 0, 0, 0, 1, 0))  # frame t takes t-1; the first is zero
    return torch.cat((back, forward, x[:, 2 * fold :]), 1)


@register("tsm", kind="attention", inputs=(64, 4, 14, 14), channels=64)
class TemporalShift(nn.Module):
    """TSM: exchange information between neighbouring frames by shifting part of the channels along time.

    A fraction ``1/fold_div`` of the channels is shifted one frame backward in time (frame ``t`` receives frame
    ``t+1``), another ``1/fold_div`` one frame forward (frame ``t`` receives ``t-1``), with zeros where a
    shifted channel leaves the clip, and the rest is left in place. The shift costs no parameters and no
    multiplications; the 2-D layer that follows (``net``) then mixes the shifted channels with the others, so
    every frame sees its neighbours. In the paper's *residual* placement the shift sits on the residual branch
    of a block, ``x + net(shift(x))``, keeping the current frame's features intact on the identity path; the
    *in-place* placement is ``net(shift(x))``.

    Args:
        channels: input channels ``C``.
        fold_div: ``1/fold_div`` of the channels is shifted each way (8: a quarter of them moves in all).
        net: an optional 2-D layer ``(N*T, C, H, W) -> (N*T, C', H, W)`` applied to every frame after the shift
            (the official code wraps the first convolution of a residual block); ``None`` returns the shifted
            clip itself.
        place: ``"in-place"`` returns ``net(shift(x))``; ``"residual"`` returns ``x + net(shift(x))`` (``net``
            must then keep the channel count).

    Shape:
        - Input: ``(N, C, T, H, W)``
        - Output: ``(N, C, T, H, W)`` (``(N, C', T, H, W)`` with a ``net`` changing the channels)

    Examples:
        >>> import torch, cvattn
        >>> tsm = cvattn.create("tsm", channels=16)
        >>> x = torch.randn(2, 16, 4, 7, 7)
        >>> y = tsm(x)
        >>> y.shape
        torch.Size([2, 16, 4, 7, 7])
        >>> torch.equal(y[:, :2, :-1], x[:, :2, 1:]), torch.equal(y[:, 2:4, 1:], x[:, 2:4, :-1])
        (True, True)
        >>> block = cvattn.create("tsm", channels=16, net=torch.nn.Conv2d(16, 16, 3, padding=1), place="residual")
        >>> block(x).shape
        torch.Size([2, 16, 4, 7, 7])

    Deviations:
        The official ``TemporalShift`` takes frames ``(N*T, C, H, W)`` and the number of frames per clip
        (``n_segment``); here the clip ``(N, C, T, H, W)`` carries it. The official in-place variant
        (``inplace=True``) raises ``NotImplementedError``; the out-of-place shift is the one implemented. The
        residual placement is built by ``make_temporal_shift(place="blockres")`` around a torchvision
        bottleneck in the official code; here ``place="residual"`` adds the identity around ``net``.

    Reference:
        Lin et al. TSM: Temporal Shift Module for Efficient Video Understanding. ICCV 2019.
    """

    def __init__(
        self,
        channels: int,
        fold_div: int = 8,
        net: nn.Module | None = None,
        place: str = "in-place",
    ) -> None:
        super().__init__()
        if place not in PLACES:
            raise ValueError(f"place must be one of {PLACES}, got {place!r}")
        if fold_div < 2:
            raise ValueError(f"fold_div must be at least 2 (two folds are shifted), got {fold_div}")
        self.channels = channels
        self.fold_div = fold_div
        self.fold = channels // fold_div
        self.net = net
        self.place = place

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_clip(x, self.channels, type(self).__name__)
        out = temporal_shift(x, self.fold)  # (N, C, T, H, W)
        if self.net is not None:
            out = from_frames(self.net(to_frames(out)), x.shape[2])
        if self.place == "residual":
            out = x + out
        return out
