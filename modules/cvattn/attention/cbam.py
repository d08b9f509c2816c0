"""CBAM: Convolutional Block Attention Module.

Paper: "CBAM: Convolutional Block Attention Module", Sanghyun Woo, Jongchan Park, Joon-Young Lee, In So Kweon,
ECCV 2018, https://arxiv.org/abs/1807.06521. Official code: https://github.com/Jongchan/attention-module
(``MODELS/cbam.py``).
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act, get_layer

#: The official spatial gate's BatchNorm (``momentum=0.01`` in PyTorch's convention).
_CBAM_BN = partial(nn.BatchNorm2d, eps=1e-5, momentum=0.01)


@register("cbam-channel", kind="attention", inputs=(64, 14, 14), channels=64)
class CBAMChannel(nn.Module):
    """CBAM channel attention: a shared MLP applied to the average- and max-pooled descriptors.

    ``M_c = sigmoid(MLP(avgpool(x)) + MLP(maxpool(x)))`` with ``MLP = W1 relu(W0 .)``,
    ``W0: C -> C/r`` and ``W1: C/r -> C`` (both with bias, as the official ``nn.Linear`` layers), and the
    output is ``x * M_c``. The two pooled descriptors are stacked side by side into an ``(N, C, 1, 2)``
    map so that one pass of the 1x1-conv MLP serves both.

    Args:
        channels: input channels ``C``.
        reduction: reduction ratio ``r``; hidden width ``C // r`` (official: 16).
        act_layer: activation inside the MLP (ReLU).
        gate_layer: gate (sigmoid).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> m = cvattn.create("cbam-channel", channels=64)
        >>> m(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Reference:
        Woo, Park, Lee, Kweon. CBAM: Convolutional Block Attention Module. ECCV 2018.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 16,
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
        f_avg = x.mean((2, 3), keepdim=True)  # (N, C, 1, 1)
        f_max = F.adaptive_max_pool2d(x, 1)  # (N, C, 1, 1); max with indices: a cheap backward
        f = torch.cat([f_avg, f_max], 3)  # both descriptors: (N, C, 1, 2)
        mlp = self.fc2(self.act(self.fc1(f)))  # (N, C, 1, 2)
        m_c = self.gate(mlp.sum(3, keepdim=True))  # MLP(avg) + MLP(max): (N, C, 1, 1)
        return x * m_c


@register("cbam-spatial", kind="attention", inputs=(64, 14, 14), channels=64)
class CBAMSpatial(nn.Module):
    """CBAM spatial attention: a 7x7 conv over the channel-wise max and mean maps.

    ``M_s = sigmoid(BN(conv7x7([max_c(x); mean_c(x)])))`` (conv without bias, BN, no ReLU, as the official
    ``SpatialGate``; max first, then mean) and the output is ``x * M_s``.

    Args:
        channels: input channels ``C`` (only checked; the gate has a fixed size).
        kernel_size: size of the conv, odd; padding ``kernel_size // 2`` keeps ``H, W`` (paper: 7).
        norm_layer: normalisation after the conv (BatchNorm2d, ``momentum=0.01`` as the official code);
            ``None`` for none.
        gate_layer: gate (sigmoid).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> m = cvattn.create("cbam-spatial", channels=64)
        >>> m(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Reference:
        Woo, Park, Lee, Kweon. CBAM: Convolutional Block Attention Module. ECCV 2018.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int = 7,
        norm_layer: LayerType = _CBAM_BN,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.channels = channels
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)
        norm = get_layer(norm_layer)
        self.bn = norm(1) if norm is not None else nn.Identity()
        self.gate = create_act(gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        f = torch.cat([x.max(1, keepdim=True)[0], x.mean(1, keepdim=True)], 1)  # (N, 2, H, W)
        m_s = self.gate(self.bn(self.conv(f)))  # (N, 1, H, W)
        return x * m_s


@register("cbam", kind="attention", inputs=(64, 14, 14), channels=64)
class CBAM(nn.Module):
    """CBAM: channel attention followed by spatial attention, applied in sequence.

    ``x' = M_c(x) * x`` then ``x'' = M_s(x') * x'`` (see ``cbam-channel`` and ``cbam-spatial``); the
    sequential channel-first order is the one the paper found best.

    Args:
        channels: input channels ``C``.
        reduction: reduction ratio of the channel MLP (official: 16).
        kernel_size: spatial conv size (official: 7).
        act_layer: activation inside the channel MLP (ReLU).
        gate_layer: gate of both attentions (sigmoid).
        norm_layer: normalisation of the spatial gate (BatchNorm2d, ``momentum=0.01``).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> cbam = cvattn.create("cbam", channels=64)
        >>> cbam(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Reference:
        Woo, Park, Lee, Kweon. CBAM: Convolutional Block Attention Module. ECCV 2018.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 16,
        kernel_size: int = 7,
        act_layer: LayerType = nn.ReLU,
        gate_layer: LayerType = nn.Sigmoid,
        norm_layer: LayerType = _CBAM_BN,
    ) -> None:
        super().__init__()
        self.channels = channels
        self.channel_gate = CBAMChannel(channels, reduction, act_layer, gate_layer)
        self.spatial_gate = CBAMSpatial(channels, kernel_size, norm_layer, gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        x = self.channel_gate(x)  # F' = M_c(F) * F
        return self.spatial_gate(x)  # F'' = M_s(F') * F'
