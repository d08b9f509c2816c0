"""Concurrent spatial and channel squeeze & excitation (scSE).

Paper: "Concurrent Spatial and Channel 'Squeeze & Excitation' in Fully Convolutional Networks", Abhijit Guha
Roy, Nassir Navab, Christian Wachinger, MICCAI 2018, https://arxiv.org/abs/1803.02579 (extended in IEEE TMI
2019 as "Recalibrating Fully Convolutional Networks with Spatial and Channel 'Squeeze and Excitation'
Blocks"). Official code: https://github.com/ai-med/squeeze_and_excitation
(``squeeze_and_excitation/squeeze_and_excitation.py``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act

_COMBINE = ("max", "add", "mul", "mean")


@register("scse-cse", kind="attention", inputs=(64, 14, 14), channels=64)
class SCSEChannel(nn.Module):
    """cSE: spatial squeeze and channel excitation (an SE block with the scSE paper's defaults).

    ``z = mean_{H,W}(x)``, ``s = sigmoid(W2 relu(W1 z))`` with ``W1: C -> C/r``, ``W2: C/r -> C``
    (with bias) and the output ``x * s``.

    Args:
        channels: input channels ``C``.
        reduction: reduction ratio ``r`` (paper and official code: 2).
        act_layer: activation (ReLU).
        gate_layer: gate (sigmoid).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> cse = cvattn.create("scse-cse", channels=64)
        >>> cse(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Reference:
        Roy, Navab, Wachinger. Concurrent Spatial and Channel 'Squeeze & Excitation' in Fully Convolutional
        Networks. MICCAI 2018.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 2,
        act_layer: LayerType = nn.ReLU,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.channels = channels
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Conv2d(channels, hidden, 1, bias=True)
        self.act = create_act(act_layer, inplace=True)
        self.fc2 = nn.Conv2d(hidden, channels, 1, bias=True)
        self.gate = create_act(gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        z = x.mean((2, 3), keepdim=True)  # (N, C, 1, 1)
        s = self.gate(self.fc2(self.act(self.fc1(z))))  # (N, C, 1, 1)
        return x * s


@register("scse-sse", kind="attention", inputs=(64, 14, 14), channels=64)
class SCSESpatial(nn.Module):
    """sSE: channel squeeze and spatial excitation.

    A 1x1 conv (with bias) projects the channels of each position to one value,
    ``q = sigmoid(W_sq * x)``, and the output is ``x * q``.

    Args:
        channels: input channels ``C``.
        gate_layer: gate (sigmoid).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> sse = cvattn.create("scse-sse", channels=64)
        >>> sse(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Reference:
        Roy, Navab, Wachinger. Concurrent Spatial and Channel 'Squeeze & Excitation' in Fully Convolutional
        Networks. MICCAI 2018.
    """

    def __init__(self, channels: int, gate_layer: LayerType = nn.Sigmoid) -> None:
        super().__init__()
        self.channels = channels
        self.conv = nn.Conv2d(channels, 1, 1, bias=True)
        self.gate = create_act(gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        q = self.gate(self.conv(x))  # (N, 1, H, W)
        return x * q


@register("scse", kind="attention", inputs=(64, 14, 14), channels=64)
class SCSE(nn.Module):
    """scSE: channel SE and spatial SE applied to the same input and combined element-wise.

    ``out = combine(cSE(x), sSE(x))`` where ``combine`` is the element-wise maximum by default (the
    official code), or the sum of the MICCAI paper.

    Args:
        channels: input channels ``C``.
        reduction: reduction ratio of the cSE branch (paper and official code: 2).
        combine: ``"max"`` (official code; the TMI extension found max-out best), ``"add"`` (the MICCAI
            paper), ``"mul"`` or ``"mean"`` (the other aggregations the TMI extension compares).
        act_layer: activation of the cSE branch (ReLU).
        gate_layer: gate of both branches (sigmoid).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> scse = cvattn.create("scse", channels=64)
        >>> scse(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The default ``combine="max"`` follows the official code and the journal version; the MICCAI paper
        adds the two branches (``combine="add"``).

    Reference:
        Roy, Navab, Wachinger. Concurrent Spatial and Channel 'Squeeze & Excitation' in Fully Convolutional
        Networks. MICCAI 2018.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 2,
        combine: str = "max",
        act_layer: LayerType = nn.ReLU,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        if combine not in _COMBINE:
            raise ValueError(f"combine must be one of {_COMBINE}, got {combine!r}")
        self.channels = channels
        self.combine = combine
        self.cse = SCSEChannel(channels, reduction, act_layer, gate_layer)
        self.sse = SCSESpatial(channels, gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        u_cse = self.cse(x)
        u_sse = self.sse(x)
        if self.combine == "max":
            return torch.maximum(u_cse, u_sse)
        if self.combine == "add":
            return u_cse + u_sse
        if self.combine == "mul":
            return u_cse * u_sse
        return (u_cse + u_sse) / 2
