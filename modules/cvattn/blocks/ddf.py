"""Decoupled dynamic filter (DDF): a depthwise dynamic filter factored into a spatial and a channel filter.

Paper: "Decoupled Dynamic Filter Networks", Jingkai Zhou, Varun Jampani, Zhixiong Pi, Qiong Liu, Ming-Hsuan Yang,
CVPR 2021, https://arxiv.org/abs/2104.14107. Official code: https://github.com/theFoxofSky/ddfnet (``ddf/ddf.py``:
``DDFPack``, ``FilterNorm``; the operation itself is a CUDA kernel, with a pure-Python reference in
``grad_check.py``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.init import calculate_gain

from .._registry import register
from ..layers import check_input


def filter_norm(f: torch.Tensor, dim: int) -> torch.Tensor:
    """Standardise ``f`` along ``dim`` (the ``k * k`` filter taps): zero mean, unit (unbiased) standard deviation."""
    f = f - f.mean(dim, keepdim=True)
    return f / (f.std(dim, keepdim=True) + 1e-10)


def ddf_op(
    x: torch.Tensor,
    channel_filter: torch.Tensor,
    spatial_filter: torch.Tensor,
    kernel_size: int,
    stride: int,
    dilation: int,
    combine: str,
) -> torch.Tensor:
    """Apply the decoupled filter: output ``(c, p)`` is ``sum_j x[c, p + d * o_j] * (F_c[c, j] op F_s[p, j])``.

    Args:
        x: ``(N, C, H, W)``.
        channel_filter: ``(N, C, k * k)``, one filter per channel.
        spatial_filter: ``(N, G, k * k, H', W')``, one filter per output position and head of ``C / G`` channels.
        combine: ``"mul"`` (``F_c * F_s``) or ``"add"`` (``F_c + F_s``).
    """
    n, c = x.shape[0], x.shape[1]
    g, kk, ho, wo = (
        spatial_filter.shape[1],
        spatial_filter.shape[2],
        spatial_filter.shape[3],
        spatial_filter.shape[4],
    )
    pad = (kernel_size - 1) // 2 * dilation
    cols = F.unfold(x, kernel_size, dilation, pad, stride)  # (N, C * k * k, H' * W')
    cols = cols.reshape(n, g, c // g, kk, ho * wo)  # taps of every output position
    s = spatial_filter.reshape(n, g, 1, kk, ho * wo)
    f_c = channel_filter.reshape(n * c, 1, kk)
    if combine == "mul":
        # sum_j cols_j * F_s,j * F_c,j: the spatial product, then a per-channel dot product over the taps
        y = torch.bmm(f_c, (cols * s).reshape(n * c, kk, ho * wo))
    else:
        y = torch.bmm(f_c, cols.reshape(n * c, kk, ho * wo)) + (cols * s).sum(3).reshape(n * c, 1, ho * wo)
    return y.reshape(n, c, ho, wo)


class _DecoupledFilters(nn.Module):
    """The two filter branches of DDF: a spatial filter (optionally after a depthwise convolution, as in
    DDF-Up) and a channel filter, each normalised over its taps."""

    def __init__(
        self,
        channels: int,
        kernel_size: int,
        stride: int,
        head: int,
        se_ratio: float,
        nonlinearity: str,
        dw_kernel_size: int = 0,
    ) -> None:
        super().__init__()
        if kernel_size < 3 or kernel_size % 2 == 0:
            raise ValueError(f"expected an odd kernel_size above 1, got {kernel_size}")
        if channels % head:
            raise ValueError(f"expected channels divisible by head, got {channels} and {head}")
        self.channels, self.kernel_size, self.head = channels, kernel_size, head
        kk = kernel_size * kernel_size
        self.spatial_gain = calculate_gain(nonlinearity) / kernel_size
        if dw_kernel_size:
            self.spatial_dw = nn.Conv2d(
                channels, channels, dw_kernel_size, padding=dw_kernel_size // 2, groups=channels
            )
        else:
            self.spatial_dw = None
        self.spatial = nn.Conv2d(channels, head * kk, 1, stride=stride)
        hidden = int(channels * se_ratio)
        self.channel_fc1 = nn.Conv2d(channels, hidden, 1)
        self.channel_act = nn.ReLU(inplace=True)
        self.channel_fc2 = nn.Conv2d(hidden, channels * kk, 1)
        self.channel_scale = nn.Parameter(torch.randn(channels * kk) * self.spatial_gain)

    def filters(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The channel filter ``(N, C, k*k)`` and the spatial filter ``(N, G, k*k, H', W')``."""
        n, kk = x.shape[0], self.kernel_size * self.kernel_size
        # spatial filter: normalised over its taps, scaled by gain / k
        f_s = self.spatial(x if self.spatial_dw is None else self.spatial_dw(x))
        f_s = filter_norm(f_s.reshape(n, self.head, kk, f_s.shape[2], f_s.shape[3]), 2) * self.spatial_gain
        # channel filter: normalised over its taps, scaled per channel and tap
        z = self.channel_act(self.channel_fc1(x.mean((2, 3), keepdim=True)))
        f_c = filter_norm(self.channel_fc2(z).reshape(n, self.channels, kk), 2)
        return f_c * self.channel_scale.reshape(self.channels, kk), f_s


def _check_combine(kernel_combine: str) -> None:
    if kernel_combine not in ("mul", "add"):
        raise ValueError(f"expected kernel_combine 'mul' or 'add', got {kernel_combine!r}")


@register("ddf", kind="block", inputs=(32, 16, 16), channels=32)
class DDF(_DecoupledFilters):
    """Decoupled dynamic filter: per-position spatial filters times per-channel channel filters.

    A dynamic depthwise filter of size ``C x k x k`` at every position would cost a prediction of ``C k^2``
    values per pixel. DDF decouples it into a spatial filter ``F_s`` (``k^2`` taps per position and head,
    a 1x1 convolution of the input) and a channel filter ``F_c`` (``k^2`` taps per channel, an SE-like branch:
    GAP, FC, ReLU, FC), each standardised over its taps by filter normalisation (zero mean, unit standard
    deviation, then scaled: by ``gain / k`` for the spatial filter, by a learned per-tap scale for the channel
    filter), and combines them per tap, ``F_c * F_s`` ("mul") or ``F_c + F_s`` ("add"). The result is content
    adaptive in both space and channels at about the cost of a depthwise convolution.

    Args:
        channels: channels ``C`` (input and output).
        kernel_size: filter size ``k`` (odd, above 1).
        stride: stride; the spatial filter is predicted at the output positions.
        dilation: dilation.
        head: number of spatial filters per position ``G`` (each shared by ``C / G`` channels).
        se_ratio: hidden width of the channel branch, ``int(C * se_ratio)`` (0.2).
        nonlinearity: the nonlinearity after the block, whose gain scales the filters (``"relu"``).
        kernel_combine: ``"mul"`` or ``"add"``.

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H', W')`` with ``H' = (H - 1) // stride + 1``.

    Examples:
        >>> import torch, cvattn
        >>> ddf = cvattn.create("ddf", channels=32, kernel_size=3, stride=2)
        >>> ddf(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 32, 8, 8])

    Deviations:
        The official operation is a CUDA kernel; this module computes the same sums with ``unfold`` (checked
        against the authors' pure-Python reference of the kernel). With a stride, the official module needs
        ``H`` and ``W`` divisible by it (it reshapes the strided 1x1 convolution's output to ``H // stride``);
        here any size works, with the output size of a padded convolution.

    Reference:
        Zhou, Jampani, Pi, Liu, Yang. Decoupled Dynamic Filter Networks. CVPR 2021.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        dilation: int = 1,
        head: int = 1,
        se_ratio: float = 0.2,
        nonlinearity: str = "relu",
        kernel_combine: str = "mul",
    ) -> None:
        _check_combine(kernel_combine)
        super().__init__(channels, kernel_size, stride, head, se_ratio, nonlinearity)
        self.stride, self.dilation, self.kernel_combine = stride, dilation, kernel_combine

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        f_c, f_s = self.filters(x)
        return ddf_op(x, f_c, f_s, self.kernel_size, self.stride, self.dilation, self.kernel_combine)


@register("ddf-up", kind="block", inputs=(32, 8, 8), channels=32)
class DDFUp(nn.Module):
    """DDF-Up: content-adaptive upsampling by ``s^2`` decoupled dynamic filters and a pixel shuffle.

    Each of the ``s^2`` sub-pixel positions of an ``s``-times upsampled map has its own DDF branch (a
    depthwise convolution before the spatial filter, and its own channel filter); the branch outputs are
    stacked and rearranged by a pixel shuffle. The filters use the linear gain (``1 / k``), since no
    nonlinearity follows an upsampling layer.

    Args:
        channels: channels ``C`` (input and output).
        kernel_size: filter size ``k`` (odd, above 1).
        scale_factor: upsampling factor ``s`` (2).
        dilation: dilation.
        head: spatial filters per position ``G``.
        se_ratio: hidden width of the channel branches, ``int(C * se_ratio)`` (0.2).
        nonlinearity: the gain's nonlinearity (``"linear"``).
        dw_kernel_size: kernel size of the depthwise convolution before each spatial filter (3, at least 3).
        kernel_combine: ``"mul"`` or ``"add"``.

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, s H, s W)``

    Examples:
        >>> import torch, cvattn
        >>> up = cvattn.create("ddf-up", channels=32, scale_factor=2)
        >>> up(torch.randn(2, 32, 8, 8)).shape
        torch.Size([2, 32, 16, 16])

    Deviations:
        As the official code's default (``joint_channels < 1``), the filters are predicted from the input
        itself; joint upsampling from a guidance map is left out. The official call of the DDF operation
        passes ``head`` where the combination belongs (``ddf(..., 1, self.head, self.kernel_combine)``, which
        the CUDA operation rejects); ``kernel_combine`` is used here as intended. The depthwise convolution is
        padded by ``dw_kernel_size // 2`` (the official code pads by ``kernel_size // 2``, which only fits when
        the two sizes are equal).

    Reference:
        Zhou, Jampani, Pi, Liu, Yang. Decoupled Dynamic Filter Networks. CVPR 2021.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int = 3,
        scale_factor: int = 2,
        dilation: int = 1,
        head: int = 1,
        se_ratio: float = 0.2,
        nonlinearity: str = "linear",
        dw_kernel_size: int = 3,
        kernel_combine: str = "mul",
    ) -> None:
        super().__init__()
        _check_combine(kernel_combine)
        self.channels, self.kernel_size, self.scale_factor = channels, kernel_size, scale_factor
        self.dilation, self.kernel_combine = dilation, kernel_combine
        self.branches = nn.ModuleList(
            _DecoupledFilters(channels, kernel_size, 1, head, se_ratio, nonlinearity, max(dw_kernel_size, 3))
            for _ in range(scale_factor * scale_factor)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        outs = []
        for branch in self.branches:
            f_c, f_s = branch.filters(x)
            outs.append(ddf_op(x, f_c, f_s, self.kernel_size, 1, self.dilation, self.kernel_combine))
        y = torch.stack(outs, 2)  # (N, C, s*s, H, W)
        return F.pixel_shuffle(y.reshape(y.shape[0], -1, y.shape[3], y.shape[4]), self.scale_factor)
