"""Octave convolution (OctConv).

Paper: "Drop an Octave: Reducing Spatial Redundancy in Convolutional Neural Networks with Octave Convolution",
Yunpeng Chen, Haoqi Fan, Bing Xu, Zhicheng Yan, Yannis Kalantidis, Marcus Rohrbach, Shuicheng Yan, Jiashi Feng,
ICCV 2019, https://arxiv.org/abs/1904.05049.
Official code (MXNet Gluon): https://github.com/facebookresearch/OctConv (``utils/gluon/utils/octconv.py``,
``Conv2D``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import check_input


def _pool(x: torch.Tensor, size: int) -> torch.Tensor:
    """``size x size`` average pooling with stride ``size``; a partial window at an odd border is averaged
    over the pixels it covers (ceil mode, as the official ``AvgPool2D(ceil_mode=True, count_include_pad=False)``)."""
    return F.avg_pool2d(x, size, size, ceil_mode=True, count_include_pad=False)


@register(
    "octconv",
    kind="fusion",
    outputs=2,
    inputs=((32, 16, 16), (32, 8, 8)),
    odd_inputs=((32, 13, 17), (32, 7, 9)),
    in_channels=64,
    out_channels=64,
)
@register(
    "octconv-first",
    kind="block",
    inputs=(64, 16, 16),
    outputs=2,
    in_channels=64,
    out_channels=64,
    alpha_in=0.0,
)
@register(
    "octconv-last",
    kind="fusion",
    inputs=((32, 16, 16), (32, 8, 8)),
    odd_inputs=((32, 13, 17), (32, 7, 9)),
    in_channels=64,
    out_channels=64,
    alpha_out=0.0,
)
class OctaveConv(nn.Module):
    """Octave convolution: a conv on a feature map split into a high-frequency part at full resolution and a
    low-frequency part at half resolution, with the four paths between them.

    The ``C_in`` input channels are split into ``X^H`` (``C_in - floor(alpha_in C_in)`` channels, ``H x W``)
    and ``X^L`` (``floor(alpha_in C_in)`` channels, ``ceil(H/2) x ceil(W/2)``), the outputs likewise by
    ``alpha_out``. ``Y^H = f(X^H; W^{H->H}) + upsample(f(X^L; W^{L->H}), 2)`` and
    ``Y^L = f(X^L; W^{L->L}) + f(pool(X^H, 2); W^{H->L})``: high-to-low goes through 2x2 average pooling and
    low-to-high through the conv at low resolution followed by 2x nearest upsampling. Storing and convolving
    the smooth part at half resolution saves memory and computation (about ``1 - 3/4 alpha (2 - alpha)`` of
    the FLOPs for ``alpha_in = alpha_out = alpha``) and doubles that part's receptive field. Stride 2 pools
    both inputs first (the low-to-high path then needs no upsampling).

    The high/low pair: with ``alpha_in, alpha_out > 0`` (``"octconv"``) the module takes ``(x_h, x_l)`` and
    returns ``(y_h, y_l)``. ``alpha_in = 0`` (``"octconv-first"``, the first OctConv of a network) takes a
    single ordinary map as ``x_h`` and splits it into the pair; ``alpha_out = 0`` (``"octconv-last"``) merges
    the pair back into a single ordinary map. A network's OctConvs are chained first -> general ... -> last
    (normalisation and activation applied to each part separately), so that it takes and returns plain
    ``(N, C, H, W)`` maps. Both 0 is a plain conv.

    Args:
        in_channels: input channels ``C_in`` (high plus low).
        out_channels: output channels (high plus low).
        kernel_size: kernel size of the four convs, odd; the padding is always "same".
        alpha_in: share of low-frequency input channels, in [0, 1).
        alpha_out: share of low-frequency output channels, in [0, 1).
        stride: 1 or 2 (average pooling before the convs, as in the official code).
        dilation: dilation of the four convs.
        groups: groups of the four convs; ``groups == in_channels == out_channels`` with
            ``alpha_in == alpha_out`` is the depthwise form, which has only the H->H and L->L paths.
        bias: one bias per output part, on the H->H conv and on the H->L conv (L->L when depthwise).

    Shape:
        - Input: ``x_h`` ``(N, C_in^H, H, W)`` and, when ``alpha_in > 0``, ``x_l`` ``(N, C_in^L, ceil(H/2),
          ceil(W/2))``.
        - Output: ``y_h`` ``(N, C_out^H, H', W')`` with ``H' = ceil(H / stride)``, and, when ``alpha_out > 0``,
          ``y_l`` ``(N, C_out^L, ceil(H'/2), ceil(W'/2))``: a tuple ``(y_h, y_l)``, or ``y_h`` alone.

    Examples:
        >>> import torch, cvattn
        >>> first = cvattn.create("octconv-first", in_channels=64, out_channels=64)  # alpha_out 0.5
        >>> oct = cvattn.create("octconv", in_channels=64, out_channels=64)  # alpha 0.5 in and out
        >>> last = cvattn.create("octconv-last", in_channels=64, out_channels=64)  # alpha_in 0.5
        >>> x_h, x_l = first(torch.randn(2, 64, 16, 16))
        >>> x_h.shape, x_l.shape
        (torch.Size([2, 32, 16, 16]), torch.Size([2, 32, 8, 8]))
        >>> last(*oct(x_h, x_l)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        The channels are given as a total and two ratios (the official ``Conv2D`` takes explicit
        ``(high, low)`` channel pairs; the official networks split with ``low = int(ratio * C)``, as here). The
        padding is always "same" (the official ``padding`` argument; only "same" keeps the two resolutions
        aligned). At an odd height or width the upsampled low-to-high map is cropped to the high map's size
        (the official code requires even sizes). The official ``enable_path`` switches are left out.

    Reference:
        Chen, Fan, Xu, Yan, Kalantidis, Rohrbach, Yan, Feng. Drop an Octave: Reducing Spatial Redundancy in
        Convolutional Neural Networks with Octave Convolution. ICCV 2019.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        alpha_in: float = 0.5,
        alpha_out: float = 0.5,
        stride: int = 1,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if not (0.0 <= alpha_in < 1.0 and 0.0 <= alpha_out < 1.0):
            raise ValueError(f"expected alpha_in and alpha_out in [0, 1), got {alpha_in} and {alpha_out}")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"expected an odd kernel_size, got {kernel_size}")
        if stride not in (1, 2):
            raise ValueError(f"expected stride 1 or 2, got {stride}")
        self.in_l = int(alpha_in * in_channels)
        self.in_h = in_channels - self.in_l
        self.out_l = int(alpha_out * out_channels)
        self.out_h = out_channels - self.out_l
        self.stride = stride
        self.depthwise = groups == in_channels
        if self.depthwise and (self.in_h, self.in_l) != (self.out_h, self.out_l):
            raise ValueError(
                f"depthwise OctConv (groups == in_channels) expected out_channels == in_channels and alpha_out "
                f"== alpha_in, got {in_channels} -> {out_channels} channels, alpha {alpha_in} -> {alpha_out}"
            )
        padding = dilation * (kernel_size // 2)

        def conv(cin: int, cout: int, with_bias: bool) -> nn.Conv2d | None:
            if cin == 0 or cout == 0:
                return None
            g = cin if self.depthwise else groups
            if cin % g or cout % g:
                raise ValueError(
                    f"expected every part's channels divisible by groups ({g}), got {cin} -> {cout}"
                )
            return nn.Conv2d(cin, cout, kernel_size, 1, padding, dilation, g, bias=with_bias)

        cross = not self.depthwise
        self.conv_h2h = conv(self.in_h, self.out_h, bias)
        self.conv_h2l = conv(self.in_h, self.out_l, bias) if cross else None
        self.conv_l2h = conv(self.in_l, self.out_h, False) if cross else None
        self.conv_l2l = conv(self.in_l, self.out_l, bias and self.conv_h2l is None)

    def forward(
        self, x_h: torch.Tensor, x_l: torch.Tensor | None = None
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        check_input(x_h, self.in_h, name="x_h")
        if self.in_l > 0:
            self._check_low(x_h, x_l)
        elif x_l is not None and not isinstance(x_l, fx.Proxy):
            raise ValueError("x_l: expected no low-frequency input (alpha_in = 0)")
        if self.stride == 2:
            x_h2h, x_h2l = _pool(x_h, 2), _pool(x_h, 4)
        else:
            x_h2h, x_h2l = x_h, _pool(x_h, 2)
        y_h = self.conv_h2h(x_h2h)
        if self.conv_l2h is not None:
            y_l2h = self.conv_l2h(x_l)
            if self.stride == 1:  # back to full resolution; cropped at an odd size
                y_l2h = F.interpolate(y_l2h, scale_factor=2.0, mode="nearest")[
                    ..., : y_h.shape[-2], : y_h.shape[-1]
                ]
            y_h = y_h + y_l2h
        if self.out_l == 0:
            return y_h
        y_l = self.conv_h2l(x_h2l) if self.conv_h2l is not None else None
        if self.conv_l2l is not None:
            y_l2l = self.conv_l2l(_pool(x_l, 2) if self.stride == 2 else x_l)
            y_l = y_l2l if y_l is None else y_l + y_l2l
        return y_h, y_l

    def _check_low(self, x_h: torch.Tensor, x_l: torch.Tensor | None) -> None:
        if x_l is None:
            raise ValueError(f"x_l: expected a low-frequency map (N, {self.in_l}, H/2, W/2), got None")
        check_input(x_l, self.in_l, name="x_l")
        if isinstance(x_h, fx.Proxy) or isinstance(x_l, fx.Proxy):
            return
        half = ((x_h.shape[-2] + 1) // 2, (x_h.shape[-1] + 1) // 2)
        if tuple(x_l.shape[-2:]) != half or x_l.shape[0] != x_h.shape[0]:
            raise ValueError(
                f"x_l: expected shape ({x_h.shape[0]}, {self.in_l}, {half[0]}, {half[1]}) for x_h of shape "
                f"{tuple(x_h.shape)}, got {tuple(x_l.shape)}"
            )
