"""BlurPool and MaxBlurPool: anti-aliased down-sampling.

Paper: "Making Convolutional Networks Shift-Invariant Again", Richard Zhang, ICML 2019,
https://proceedings.mlr.press/v97/zhang19a.html (arXiv 1904.11486). Official code:
https://github.com/adobe/antialiased-cnns (``antialiased_cnns/blurpool.py``, ``BlurPool``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input

_PAD_MODES = {"reflect": "reflect", "replicate": "replicate", "zero": "constant"}


def binomial_filter(filter_size: int) -> torch.Tensor:
    """The normalised 2-D binomial filter ``a a^T / sum``, ``a = [C(k-1, 0), ..., C(k-1, k-1)]``."""
    a = torch.tensor([math.comb(filter_size - 1, i) for i in range(filter_size)], dtype=torch.float64)
    filt = a[:, None] * a[None, :]
    return (filt / filt.sum()).float()


@register("blurpool", kind="block", inputs=(32, 16, 16), channels=32)
class BlurPool(nn.Module):
    """BlurPool: low-pass filter with a fixed binomial kernel, then subsample (anti-aliased down-sampling).

    Max-pooling, strided convolution and average pooling subsample without (enough) low-pass filtering,
    so a one-pixel shift of the input can change the output a lot (aliasing). BlurPool blurs every
    channel with the normalised binomial filter of size ``K`` (``K = 4``: ``[1, 3, 3, 1]^T [1, 3, 3, 1] / 64``)
    and keeps every ``stride``-th sample: a depthwise conv with a fixed kernel, after padding the map by
    ``(K - 1) // 2 + pad_off`` before and ``ceil((K - 1) / 2) + pad_off`` after. The paper's anti-aliased
    layers evaluate the original layer densely (stride 1) and then apply BlurPool: ``MaxPool(k, 2)`` becomes
    ``MaxPool(k, 1)`` + BlurPool (``blurpool-max``), ``Conv(stride 2) + ReLU`` becomes ``Conv(stride 1) +
    ReLU`` + BlurPool, and ``AvgPool(stride 2)`` becomes BlurPool alone.

    Args:
        channels: input channels (the blur is depthwise).
        filter_size: size ``K`` of the binomial filter (official: 1 to 7, default 4; any ``K >= 1`` here).
        stride: the subsampling factor.
        pad_type: ``"reflect"`` (official default), ``"replicate"`` or ``"zero"``.
        pad_off: extra padding on every side.

    Shape:
        - Input: ``(N, channels, H, W)``
        - Output: ``(N, channels, H', W')``, ``H' = (H + 2 pad_off - 1) // stride + 1``

    Examples:
        >>> import torch, cvattn
        >>> blur = cvattn.create("blurpool", channels=32)
        >>> blur(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 32, 8, 8])

    Deviations:
        The filter is a non-persistent buffer (it is a constant; the official layer stores it in the state
        dict as ``filt``), and ``filter_size`` is not limited to 7.

    Reference:
        Zhang. Making Convolutional Networks Shift-Invariant Again. ICML 2019.
    """

    def __init__(
        self,
        channels: int,
        filter_size: int = 4,
        stride: int = 2,
        pad_type: str = "reflect",
        pad_off: int = 0,
    ) -> None:
        super().__init__()
        if pad_type not in _PAD_MODES:
            raise ValueError(f"pad_type must be one of {sorted(_PAD_MODES)}, got {pad_type!r}")
        if filter_size < 1:
            raise ValueError(f"filter_size must be at least 1, got {filter_size}")
        self.channels = channels
        self.filter_size = filter_size
        self.stride = stride
        self.pad_mode = _PAD_MODES[pad_type]
        before, after = (filter_size - 1) // 2 + pad_off, filter_size // 2 + pad_off
        self.padding = (before, after, before, after)  # F.pad order: left, right, top, bottom
        self.register_buffer(
            "filt", binomial_filter(filter_size).expand(channels, 1, -1, -1).contiguous(), persistent=False
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        if any(self.padding):
            x = F.pad(x, self.padding, mode=self.pad_mode)
        if self.filter_size == 1:
            return x[:, :, :: self.stride, :: self.stride].contiguous()
        return F.conv2d(x, self.filt, stride=self.stride, groups=self.channels)

    def extra_repr(self) -> str:
        return (
            f"{self.channels}, filter_size={self.filter_size}, stride={self.stride}, pad_mode={self.pad_mode}"
        )


@register("blurpool-max", kind="block", inputs=(32, 16, 16), channels=32)
class MaxBlurPool(nn.Module):
    """MaxBlurPool: dense max-pooling (stride 1), then BlurPool, in place of a strided max-pool.

    ``MaxPool(kernel_size, stride)`` is max-evaluated densely and then subsampled; MaxBlurPool keeps the
    dense max (``MaxPool(kernel_size, 1)``), which preserves shift-equivariance, and moves the subsampling
    into a :class:`BlurPool`, which low-pass filters first. The paper's anti-aliased ResNet, VGG and DenseNet
    use it with ``kernel_size = 2`` in place of their ``MaxPool(2, 2)`` / ``MaxPool(3, 2)``.

    Args:
        channels: input channels.
        kernel_size: the max-pool window (paper: 2).
        filter_size: size of the binomial blur filter (official default: 4).
        stride: the subsampling factor of the blur.
        pad_type: padding of the blur: ``"reflect"``, ``"replicate"`` or ``"zero"``.

    Shape:
        - Input: ``(N, channels, H, W)``
        - Output: ``(N, channels, H', W')``, ``H' = (H - kernel_size) // stride + 1``

    Examples:
        >>> import torch, cvattn
        >>> pool = cvattn.create("blurpool-max", channels=32)
        >>> pool(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 32, 8, 8])

    Reference:
        Zhang. Making Convolutional Networks Shift-Invariant Again. ICML 2019.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int = 2,
        filter_size: int = 4,
        stride: int = 2,
        pad_type: str = "reflect",
    ) -> None:
        super().__init__()
        self.channels = channels
        self.max_pool = nn.MaxPool2d(kernel_size, stride=1)
        self.blur = BlurPool(channels, filter_size, stride, pad_type)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        return self.blur(self.max_pool(x))
