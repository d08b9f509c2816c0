"""Dynamic region-aware convolution (DRConv).

Paper: "Dynamic Region-Aware Convolution", Jin Chen, Xijun Wang, Zichao Guo, Xiangyu Zhang, Jian Sun, CVPR 2021,
https://arxiv.org/abs/2003.12243. Official code: https://github.com/megvii-research/DRConv (``DRConv.py``, the
guided mask in ``ShuffleNetV2_pytorch.py``; the region-wise product is a CUDA kernel, ``Deformable_MatMul3``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input


@register("drconv", kind="block", inputs=(32, 16, 16), in_channels=32, out_channels=32, kernel_size=1)
class DRConv(nn.Module):
    """DRConv: each spatial region, chosen per position by a learned guided mask, gets its own dynamic filter.

    A guided mask (a 1x1 convolution to ``m`` channels and a softmax, ``A``) assigns every output position to
    the region ``argmax_j A_j``; a filter generator turns the global average of the input into ``m`` filters,
    each a mixture of ``B`` learned bases weighted by ``2 sigmoid(FC(GAP(x))) / B``. Each position is convolved
    with the filter of its region, so the layer keeps the cost and translation invariance of one convolution
    while its filters vary over the image and across images. The hard assignment is trained as the paper's
    approximate backward: the gradient reaches ``A_j`` as if the output were ``sum_j A_j y_j`` (``y_j`` the
    response to filter ``j``), while the filters and the input get the gradient of the selected filter only.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: kernel size ``k``.
        stride: stride.
        padding: padding.
        dilation: dilation.
        bias: add a learned bias.
        num_regions: ``m``, regions and filters per example (8).
        num_bases: ``B``, basis filters mixed into each region's filter (8).

    Shape:
        - Input: ``(N, C_in, H, W)``
        - Output: ``(N, C_out, H', W')`` as ``nn.Conv2d`` with the same arguments.

    Examples:
        >>> import torch, cvattn
        >>> conv = cvattn.create("drconv", in_channels=32, out_channels=64, kernel_size=3, padding=1)
        >>> conv(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        Self-contained: the guided mask (``masknet`` of the official ShuffleNetV2 block, shared there by the
        block's two DRConvs) is computed by the layer from its own input, and resized to the output by nearest
        interpolation as the official layer resizes the mask it is given. The official CUDA kernel evaluates only
        the selected filter at each position; here the ``m`` responses are computed as one batched product and
        the selected one kept (``m`` times the multiply-adds), so that the gradient towards the mask is that of
        the kernel. The official options ``use_alpha`` (weight gradients weighted by ``A``) and ``beta`` (scale of
        the mask's gradient) are left at their defaults (off, 1); ``groups`` (ignored by the official layer) is
        not offered.

    Reference:
        Chen, Wang, Guo, Zhang, Sun. Dynamic Region-Aware Convolution. CVPR 2021.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 1,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        bias: bool = True,
        num_regions: int = 8,
        num_bases: int = 8,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.num_regions, self.num_bases = num_regions, num_bases
        self.pointwise = kernel_size == 1 and stride == 1 and padding == 0
        fan_in = in_channels * kernel_size * kernel_size
        # basis filters, one column per basis: (C_out * C_in * k * k, B)
        self.weight = nn.Parameter(
            torch.empty(out_channels * fan_in, num_bases).uniform_(-1, 1) * math.sqrt(6 / fan_in)
        )
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.routing = nn.Linear(in_channels, num_regions * num_bases)
        nn.init.normal_(self.routing.weight, 0, 0.01)
        nn.init.zeros_(self.routing.bias)
        self.guide = nn.Conv2d(in_channels, num_regions, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        n, m = x.shape[0], self.num_regions
        # filter generator: m filters per example, each a mixture of the B bases
        r = 2.0 * torch.sigmoid(self.routing(x.mean((2, 3)))) / self.num_bases  # (N, m * B)
        w = F.linear(r.reshape(-1, self.num_bases), self.weight)  # (N*m, C_out * C_in * k * k)
        w = w.reshape(n, m * self.out_channels, -1)  # (N, m*C_out, C_in*k*k)
        if self.pointwise:
            cols = x.flatten(2)  # (N, C_in, H*W)
            ho, wo = x.shape[2], x.shape[3]
        else:
            cols = F.unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)  # (N, C_in*k*k, L)
            span = self.dilation * (self.kernel_size - 1) + 1
            ho = (x.shape[2] + 2 * self.padding - span) // self.stride + 1
            wo = (x.shape[3] + 2 * self.padding - span) // self.stride + 1
        y = torch.bmm(w, cols).reshape(
            n, m, self.out_channels, -1
        )  # every region's response: (N, m, C_out, L)
        # guided mask: soft assignment A, hard region argmax A (straight-through towards A)
        a = torch.softmax(self.guide(x), 1)  # (N, m, H, W)
        if not self.pointwise:  # nearest resize to the output (the identity when the sizes agree)
            a = F.interpolate(a, (ho, wo))
        a = a.flatten(2)  # (N, m, L)
        # one-hot of the argmax, by comparison (F.one_hot checks its range on the host: a sync, and
        # operators without a FLOP formula)
        regions = torch.arange(m, device=a.device).view(1, m, 1)
        hard = (a.argmax(1, keepdim=True) == regions).to(a.dtype)
        select = hard + (a - a.detach())  # the value of `hard`, the gradient of `a`
        out = (y * select.unsqueeze(2)).sum(1).reshape(n, self.out_channels, ho, wo)
        return out if self.bias is None else out + self.bias.reshape(1, -1, 1, 1)
