"""Channel attention (CA) and the residual channel attention block (RCAB) of RCAN.

Paper: "Image Super-Resolution Using Very Deep Residual Channel Attention Networks", Yulun Zhang, Kunpeng Li, Kai Li,
Lichen Wang, Bineng Zhong, Yun Fu, ECCV 2018, https://arxiv.org/abs/1807.02758. Official code:
https://github.com/yulunzhang/RCAN (``RCAN_TrainCode/code/model/rcan.py``, ``CALayer`` and ``RCAB``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act, get_layer


def _hidden(channels: int, reduction: int, hidden_channels: int | None) -> int:
    hidden = hidden_channels if hidden_channels is not None else channels // reduction
    if hidden < 1:
        raise ValueError(
            f"hidden width must be positive: channels ({channels}) // reduction ({reduction}) = {hidden}"
        )
    return hidden


@register("rcan", kind="attention", inputs=(64, 12, 12), channels=64)
class RCANChannelAttention(nn.Module):
    """RCAN channel attention: a sigmoid gate per channel from its global average, through a bottleneck.

    Global average pooling ``z_c = mean_{H,W}(x_c)``; gating ``s = sigmoid(W_U relu(W_D z))`` with
    ``W_D: C -> C/r`` and ``W_U: C/r -> C`` (1x1 convolutions with bias); output ``x * s``. It is the
    squeeze-and-excitation gate, used in RCAN to rescale the channels of super-resolution features, which
    carry mostly low-frequency information. Memory grows with ``C*H*W`` (one gated copy of the input).

    Args:
        channels: channels ``C`` (RCAN: 64).
        reduction: reduction ratio ``r``; the hidden width is ``channels // reduction`` (official: 16).
        hidden_channels: explicit hidden width, overriding ``reduction``.
        act_layer: activation of the bottleneck (ReLU).
        gate_layer: gating function (sigmoid).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> ca = cvattn.create("rcan", channels=64)
        >>> ca(torch.randn(2, 64, 12, 12)).shape
        torch.Size([2, 64, 12, 12])

    Reference:
        Zhang, Li, Li, Wang, Zhong, Fu. Image Super-Resolution Using Very Deep Residual Channel Attention
        Networks. ECCV 2018.
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
        hidden = _hidden(channels, reduction, hidden_channels)
        self.channels = channels
        self.fc1 = nn.Conv2d(channels, hidden, 1)  # W_D
        self.act = create_act(act_layer, inplace=True)
        self.fc2 = nn.Conv2d(hidden, channels, 1)  # W_U
        self.gate = create_act(gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        z = x.mean((2, 3), keepdim=True)  # global average pooling: (N, C, 1, 1)
        s = self.gate(self.fc2(self.act(self.fc1(z))))  # channel weights: (N, C, 1, 1)
        return x * s


@register("rcan-rcab", kind="attention", inputs=(64, 12, 12), channels=64)
class RCAB(nn.Module):
    """Residual channel attention block: conv-ReLU-conv, channel attention, and a short skip connection.

    ``X = W_2 relu(W_1 x)`` with ``k x k`` convolutions (bias, "same" padding), then
    ``y = x + CA(X)`` where ``CA`` is :class:`RCANChannelAttention`. RCAN stacks 20 of these in each of
    its 10 residual groups. Memory grows with ``C*H*W`` (a few maps of the input's size).

    Args:
        channels: channels ``C`` (RCAN: 64).
        kernel_size: size ``k`` of both convolutions (official: 3).
        reduction: reduction ratio ``r`` of the channel attention (official: 16).
        bias: bias in the two convolutions (official: True).
        norm_layer: normalisation after each convolution (official ``bn=False``: none).
        act_layer: activation between the convolutions and inside the attention (ReLU).
        gate_layer: gating function of the attention (sigmoid).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> rcab = cvattn.create("rcan-rcab", channels=64)
        >>> rcab(torch.randn(2, 64, 12, 12)).shape
        torch.Size([2, 64, 12, 12])

    Deviations:
        The official ``res_scale`` argument is omitted: the official forward ignores it.

    Reference:
        Zhang, Li, Li, Wang, Zhong, Fu. Image Super-Resolution Using Very Deep Residual Channel Attention
        Networks. ECCV 2018.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int = 3,
        reduction: int = 16,
        bias: bool = True,
        norm_layer: LayerType = None,
        act_layer: LayerType = nn.ReLU,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and positive, got {kernel_size}")
        norm = get_layer(norm_layer)
        self.channels = channels
        self.conv1 = nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2, bias=bias)
        self.norm1 = norm(channels) if norm is not None else nn.Identity()
        self.act = create_act(act_layer, inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2, bias=bias)
        self.norm2 = norm(channels) if norm is not None else nn.Identity()
        self.ca = RCANChannelAttention(channels, reduction, act_layer=act_layer, gate_layer=gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        res = self.norm2(self.conv2(self.act(self.norm1(self.conv1(x)))))  # X: (N, C, H, W)
        return x + self.ca(res)
