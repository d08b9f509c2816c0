"""Omni-dimensional dynamic convolution (ODConv).

Paper: "Omni-Dimensional Dynamic Convolution", Chao Li, Aojun Zhou, Anbang Yao, ICLR 2022,
https://openreview.net/forum?id=DmpCfq6Mg39 (arXiv 2209.07947). Official code: https://github.com/OSVAI/ODConv
(``modules/odconv.py``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import BatchNormAnyBatch2d, check_divisible, check_input


class ODAttention(nn.Module):
    """The four attentions of ODConv from one squeezed descriptor: ``GAP -> FC -> BN -> ReLU`` shared, then a
    head per dimension. A head whose dimension has one element (1x1 kernel, one kernel, depthwise filters) is
    left out, as its attention would be a constant."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        groups: int,
        num_kernels: int,
        hidden: int,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.temperature = 1.0
        self.fc = nn.Conv2d(in_channels, hidden, 1, bias=False)
        self.bn = BatchNormAnyBatch2d(hidden)
        self.act = nn.ReLU(inplace=True)
        self.channel = nn.Conv2d(hidden, in_channels, 1)
        depthwise = in_channels == groups == out_channels
        self.filter = None if depthwise else nn.Conv2d(hidden, out_channels, 1)
        self.spatial = None if kernel_size == 1 else nn.Conv2d(hidden, kernel_size * kernel_size, 1)
        self.kernel = None if num_kernels == 1 else nn.Conv2d(hidden, num_kernels, 1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(
        self, x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
        z = self.act(self.bn(self.fc(x.mean((2, 3), keepdim=True))))  # (N, hidden, 1, 1)
        t = self.temperature
        a_c = torch.sigmoid(self.channel(z) / t)  # input channels: (N, C_in, 1, 1)
        a_f = torch.sigmoid(self.filter(z) / t) if self.filter is not None else None  # (N, C_out, 1, 1)
        a_s = torch.sigmoid(self.spatial(z) / t) if self.spatial is not None else None  # (N, k*k, 1, 1)
        a_w = torch.softmax(self.kernel(z).flatten(1) / t, 1) if self.kernel is not None else None  # (N, K)
        return a_c, a_f, a_s, a_w


@register(
    "odconv", kind="block", inputs=(32, 16, 16), in_channels=32, out_channels=32, kernel_size=3, padding=1
)
class ODConv2d(nn.Module):
    """ODConv: dynamic convolution with attention along all four dimensions of the kernel space.

    A squeezed global descriptor gives four attentions in parallel: over the ``k x k`` positions of a kernel
    (``a_s``, sigmoid), its input channels (``a_c``, sigmoid), its filters (``a_f``, sigmoid) and the ``K``
    kernels (``a_w``, softmax), and ``y = (sum_i a_wi a_fi a_ci a_si W_i) * x``. Since ``a_c`` and ``a_f`` are
    shared by the ``K`` kernels, they are applied to the input and the output instead of the kernel (the same
    result, as in the official code); the ``K`` kernels are mixed before ``a_s`` scales their positions, and
    the per-example kernels run as one grouped convolution over the batch.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: kernel size ``k``.
        stride: stride.
        padding: padding.
        dilation: dilation.
        groups: groups (with ``groups == in_channels == out_channels`` the filter attention is left out).
        reduction: the descriptor has ``max(C_in // reduction, min_channels)`` channels (16, the paper's
            ``r = 1/16``).
        num_kernels: ``K`` (4: "ODConv (4x)"; 1 gives "ODConv (1x)").
        min_channels: smallest descriptor width (16).

    Shape:
        - Input: ``(N, C_in, H, W)``
        - Output: ``(N, C_out, H', W')`` as ``nn.Conv2d`` with the same arguments.

    Examples:
        >>> import torch, cvattn
        >>> conv = cvattn.create("odconv", in_channels=32, out_channels=64, kernel_size=3, padding=1)
        >>> conv(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        ``reduction`` is the ratio 16 where the official class takes its inverse (0.0625). The attentions'
        temperature is ``attention.temperature`` (1, as the official default). A batch of one in training
        mode normalises the descriptor with the running statistics (the official BN raises).

    Reference:
        Li, Zhou, Yao. Omni-Dimensional Dynamic Convolution. ICLR 2022.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        groups: int = 1,
        reduction: int = 16,
        num_kernels: int = 4,
        min_channels: int = 16,
    ) -> None:
        super().__init__()
        check_divisible(in_channels, out_channels, groups)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        hidden = max(in_channels // reduction, min_channels)
        self.attention = ODAttention(in_channels, out_channels, kernel_size, groups, num_kernels, hidden)
        self.weight = nn.Parameter(
            torch.empty(num_kernels, out_channels, in_channels // groups, kernel_size, kernel_size)
        )
        for w in self.weight:
            nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        a_c, a_f, a_s, a_w = self.attention(x)
        x = x * a_c
        if a_s is None and a_w is None:  # 1x1 with one kernel: the kernel is static
            y = F.conv2d(x, self.weight[0], None, self.stride, self.padding, self.dilation, self.groups)
        else:
            n, k = x.shape[0], self.kernel_size
            if a_w is None:
                w = self.weight.expand(n, -1, -1, -1, -1)  # (N, C_out, C_in/g, k, k)
            else:
                w = (a_w @ self.weight.flatten(1)).reshape(n, self.out_channels, -1, k, k)
            if a_s is not None:
                w = w * a_s.reshape(n, 1, 1, k, k)
            y = F.conv2d(
                x.reshape(1, -1, x.shape[2], x.shape[3]),  # (1, N*C_in, H, W)
                w.reshape(-1, w.shape[2], k, k),  # (N*C_out, C_in/g, k, k)
                None,
                self.stride,
                self.padding,
                self.dilation,
                self.groups * n,
            )
            y = y.reshape(n, self.out_channels, y.shape[2], y.shape[3])
        return y if a_f is None else y * a_f
