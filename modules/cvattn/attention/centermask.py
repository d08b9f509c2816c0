"""Effective Squeeze-Excitation (eSE) of VoVNetV2, the CenterMask backbone.

Paper: "CenterMask: Real-Time Anchor-Free Instance Segmentation", Youngwan Lee, Jongyoul Park, CVPR 2020,
https://arxiv.org/abs/1911.06667. Official code: https://github.com/youngwanLEE/CenterMask
(``maskrcnn_benchmark/modeling/backbone/vovnet.py``, ``eSEModule``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act


@register("centermask-ese", kind="attention", inputs=(64, 14, 14), channels=64)
class EffectiveSqueezeExcitation(nn.Module):
    """eSE: squeeze-and-excitation with a single full-width fully connected layer and a hard sigmoid.

    ``A = hsigmoid(W_C(mean_{H,W}(x)))`` with one ``C -> C`` fully connected layer ``W_C`` (a 1x1
    convolution with bias) and ``hsigmoid(z) = relu6(z + 3) / 6``; output ``x * A``. Keeping the full
    channel width, instead of SE's ``C -> C/r -> C`` bottleneck, avoids the loss of channel information
    caused by the reduction. Memory grows with ``C*H*W`` (one gated copy of the input).

    Args:
        channels: channels ``C`` (in VoVNetV2: the output width of each one-shot aggregation module).
        gate_layer: gating function (official: hard sigmoid ``relu6(z + 3) / 6``).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> ese = cvattn.create("centermask-ese", channels=64)
        >>> ese(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The official constructor's ``reduction`` argument is omitted: the official module ignores it.

    Reference:
        Lee, Park. CenterMask: Real-Time Anchor-Free Instance Segmentation. CVPR 2020.
    """

    def __init__(self, channels: int, gate_layer: LayerType = nn.Hardsigmoid) -> None:
        super().__init__()
        if channels < 1:
            raise ValueError(f"channels must be positive, got {channels}")
        self.channels = channels
        self.fc = nn.Conv2d(channels, channels, 1)  # W_C
        self.gate = create_act(gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        z = x.mean((2, 3), keepdim=True)  # global average pooling: (N, C, 1, 1)
        a = self.gate(self.fc(z))  # A_eSE: (N, C, 1, 1)
        return x * a
