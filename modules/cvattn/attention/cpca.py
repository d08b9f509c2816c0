"""Channel prior convolutional attention (CPCA).

Paper: "Channel prior convolutional attention for medical image segmentation", Hejun Huang, Zuguo Chen, Ying
Zou, Ming Lu, Chaoyang Chen, arXiv 2023 (also published in an Elsevier journal, 2024),
https://arxiv.org/abs/2306.05196. Official code: https://github.com/Cuthbert-Huang/CPCANet
(``CPCANet/nnunet/network_architecture/CPCANet.py``, ``RepBlock`` with ``ChannelAttention``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act

STRIP_SIZES = (7, 11, 21)


def _depthwise(channels: int, kh: int, kw: int) -> nn.Conv2d:
    return nn.Conv2d(channels, channels, (kh, kw), padding=(kh // 2, kw // 2), groups=channels)


@register("cpca", kind="attention", inputs=(64, 14, 14), channels=64)
class CPCA(nn.Module):
    """CPCA block: channel attention first, then spatial attention from multi-scale depthwise strip convolutions.

    With one 1x1 conv ``P`` (bias) shared by three steps: ``u = GELU(P x)``. Channel prior:
    ``a = sigmoid(MLP(AvgPool(u))) + sigmoid(MLP(MaxPool(u)))`` with the MLP ``C -> C/r -> C`` (ReLU), and
    ``f = a * u``. Spatial attention: ``d = DW5x5(f)`` and
    ``s = P(d + sum_{k in 7, 11, 21} DW_{k x 1}(DW_{1 x k}(d)))``, one weight per channel and position;
    output ``P(s * f)``. Memory grows linearly with ``H*W``.

    Args:
        channels: input and output channels ``C``.
        reduction: ratio ``r`` of the channel-attention MLP (official default 4; the CPCANet
            configurations use 8 and 16); hidden width ``C // r``.
        act_layer: activation after the first 1x1 conv (GELU).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> cpca = cvattn.create("cpca", channels=64)
        >>> cpca(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        None: the single 1x1 conv is applied three times, as in the official code.

    Reference:
        Huang, Chen, Zou, Lu, Chen. Channel prior convolutional attention for medical image segmentation.
        arXiv:2306.05196, 2023.
    """

    def __init__(self, channels: int, reduction: int = 4, act_layer: LayerType = nn.GELU) -> None:
        super().__init__()
        hidden = channels // reduction if reduction > 0 else 0
        if hidden < 1:
            raise ValueError(f"channels // reduction must be at least 1, got {channels} and {reduction}")
        self.channels = channels
        self.proj = nn.Conv2d(channels, channels, 1)  # P: used three times
        self.act = create_act(act_layer)
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, channels, 1)
        self.dw5x5 = _depthwise(channels, 5, 5)
        self.strips = nn.ModuleList(
            nn.Sequential(_depthwise(channels, 1, k), _depthwise(channels, k, 1)) for k in STRIP_SIZES
        )

    def _mlp(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.fc2(F.relu(self.fc1(z))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        u = self.act(self.proj(x))
        a = self._mlp(u.mean((2, 3), keepdim=True)) + self._mlp(u.amax((2, 3), keepdim=True))  # (N, C, 1, 1)
        f = a * u
        d = self.dw5x5(f)
        s = d
        for strip in self.strips:
            s = s + strip(d)
        s = self.proj(s)  # spatial attention: (N, C, H, W)
        return self.proj(s * f)
