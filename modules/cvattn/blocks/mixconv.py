"""Mixed depthwise convolution (MixConv).

Paper: "MixConv: Mixed Depthwise Convolutional Kernels", Mingxing Tan, Quoc V. Le, BMVC 2019,
https://arxiv.org/abs/1907.09595. Official code (TensorFlow): https://github.com/tensorflow/tpu
(``models/official/mnasnet/mixnet/custom_layers.py``, ``MixConv`` and ``_split_channels``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input


def _split_channels(total: int, groups: int) -> list[int]:
    """Equal split; the remainder goes to the first group (the official ``_split_channels``)."""
    split = [total // groups] * groups
    split[0] += total - sum(split)
    return split


@register("mixconv", kind="block", inputs=(64, 16, 16), in_channels=64)
class MixConv2d(nn.Module):
    """Mixed depthwise convolution: channel groups convolved depthwise with different kernel sizes.

    The input channels are split into ``g`` groups of (nearly) equal size, ``X = [X_1, ..., X_g]``; group
    ``i`` goes through a depthwise conv with kernel size ``k_i`` (3, 5, 7, 9 by default, i.e.
    ``2i + 1``), and the outputs are concatenated: ``Y = [DWConv_{k_1}(X_1), ..., DWConv_{k_g}(X_g)]``.
    Small kernels capture local patterns and large ones long-range patterns, within one layer and at
    about the cost of a single depthwise conv. It is a drop-in replacement for a depthwise conv.

    Args:
        in_channels: input channels.
        out_channels: output channels, a multiple of ``in_channels`` (the depthwise depth multiplier);
            ``None`` keeps ``in_channels``.
        kernel_size: one odd kernel size per group (paper's default: 3, 5, 7, 9); an ``int`` gives a
            plain depthwise conv.
        stride: stride of every group's conv.
        dilation: dilation of every group's conv.
        bias: conv biases (official: False, the conv is followed by BN).

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H', W')`` with ``H' = (H - 1) // stride + 1`` ("same" padding)

    Examples:
        >>> import torch, cvattn
        >>> conv = cvattn.create("mixconv", in_channels=64, kernel_size=(3, 5, 7, 9))
        >>> conv(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        Padding is symmetric, ``dilation * (k - 1) // 2`` per group (PyTorch convention), where TensorFlow's
        "SAME" pads more at the bottom/right at stride 2. The official ``dilated=True`` option (3x3
        kernels with dilation standing in for larger kernels) is left out.

    Reference:
        Tan, Le. MixConv: Mixed Depthwise Convolutional Kernels. BMVC 2019.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int | None = None,
        kernel_size: int | tuple[int, ...] = (3, 5, 7, 9),
        stride: int = 1,
        dilation: int = 1,
        bias: bool = False,
    ) -> None:
        super().__init__()
        kernel_sizes = (kernel_size,) if isinstance(kernel_size, int) else tuple(kernel_size)
        out_channels = in_channels if out_channels is None else out_channels
        if out_channels % in_channels:
            raise ValueError(
                f"MixConv2d: expected out_channels a multiple of in_channels={in_channels}, got {out_channels}"
            )
        if any(k % 2 == 0 for k in kernel_sizes):
            raise ValueError(f"MixConv2d: expected odd kernel sizes, got {kernel_sizes}")
        if len(kernel_sizes) > in_channels:
            raise ValueError(f"MixConv2d: {len(kernel_sizes)} kernel sizes for only {in_channels} channels")
        multiplier = out_channels // in_channels
        self.in_channels = in_channels
        self.kernel_sizes = kernel_sizes
        self.splits = _split_channels(in_channels, len(kernel_sizes))
        self.convs = nn.ModuleList(
            nn.Conv2d(
                c,
                c * multiplier,
                k,
                stride,
                padding=dilation * (k - 1) // 2,
                dilation=dilation,
                groups=c,
                bias=bias,
            )
            for c, k in zip(self.splits, kernel_sizes, strict=True)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        # one split (its backward concatenates the groups' gradients) rather than a slice per group (each of whose
        # backward passes writes a full-size zero gradient)
        groups = torch.split(x, self.splits, dim=1)
        y = [conv(groups[i]) for i, conv in enumerate(self.convs)]  # X_i -> DWConv_{k_i} (indexed: fx-traceable)
        return torch.cat(y, dim=1)
