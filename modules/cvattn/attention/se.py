"""Squeeze-and-Excitation.

Paper: "Squeeze-and-Excitation Networks", Jie Hu, Li Shen, Gang Sun, CVPR 2018 (extended in TPAMI 2020),
https://arxiv.org/abs/1709.01507. Official code (Caffe): https://github.com/hujie-frank/SENet.
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act


@register("se", kind="attention", inputs=(64, 14, 14), channels=64)
class SqueezeExcitation(nn.Module):
    """Squeeze-and-Excitation block: re-weights channels by a gate computed from their global average.

    Squeeze: ``z = mean_{H,W}(x)``. Excitation: ``s = sigmoid(W2 relu(W1 z))`` with
    ``W1: C -> C/r`` and ``W2: C/r -> C`` (fully connected, with bias). Output: ``x * s``.

    Args:
        channels: number of input channels ``C``.
        reduction: reduction ratio ``r``; the hidden width is ``channels // reduction`` (paper and
            official prototxt: 16).
        hidden_channels: explicit hidden width, overriding ``reduction``.
        act_layer: activation between the two layers (ReLU).
        gate_layer: gating function (sigmoid).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> se = cvattn.create("se", channels=64)
        >>> se(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Reference:
        Hu, Shen, Sun. Squeeze-and-Excitation Networks. CVPR 2018.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 16,
        hidden_channels: int | None = None,
        act_layer: LayerType = nn.ReLU,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.channels = channels
        hidden = hidden_channels or max(1, channels // reduction)
        self.fc1 = nn.Linear(channels, hidden)
        self.act = create_act(act_layer, inplace=True)
        self.fc2 = nn.Linear(hidden, channels)
        self.gate = create_act(gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        z = x.mean((2, 3))  # squeeze: (N, C)
        s = self.gate(self.fc2(self.act(self.fc1(z))))  # excitation: (N, C)
        return x * s[:, :, None, None]
