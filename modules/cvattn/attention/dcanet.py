"""DCANet: attention connections between consecutive attention blocks.

Paper: "DCANet: Learning Connected Attentions for Convolutional Neural Networks", Xu Ma, Jingda Guo, Sihai Tang,
Zhinan Qiao, Qi Chen, Qing Yang, Song Fu, ICME 2021, https://arxiv.org/abs/2007.05099. Official code:
https://github.com/13952522076/DCANet (``models/resnet/resnet_se_dca.py``, ``CSELayer``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act


@register(
    "dcanet",
    kind="fusion",
    outputs=2,
    inputs=((64, 14, 14), (32, 1, 1)),
    odd_inputs=((64, 13, 17), (32, 1, 1)),
    channels=64,
    prev_channels=32,
)
class DCASqueezeExcitation(nn.Module):
    """DCA-SE: an SE block whose extracted descriptor is merged with the previous block's attention.

    SE extracts ``g = GAP(x)`` and transforms it, ``a = sigmoid(W2 relu(W1 .))``. DCANet connects the
    attention blocks of consecutive residual blocks: the previous block's attended descriptor
    ``p = g_prev * a_prev`` (projected by ``Linear -> LayerNorm -> ReLU`` when its width differs) is merged
    with ``g`` before the transform, ``m = ReLU(LN(alpha * g + beta * p + b))`` (a 1x1 conv over the two
    stacked descriptors), and ``a = sigmoid(W2 relu(W1 m))``. The block returns the re-weighted features
    and its own attended descriptor ``g * a`` for the next block.

    Interface: ``out, att = block(x, previous)``; pass ``att`` as ``previous`` to the next DCA block
    (in the official ResNets, the next residual block's SE); the first block of a network gets
    ``previous=None`` and is then a plain SE block.

    Args:
        channels: input channels ``C``.
        prev_channels: width of the previous block's attended descriptor; ``None`` means ``channels``
            (no projection, as the official code when the widths agree).
        reduction: SE reduction ratio (official: 16).
        act_layer: activation of the SE transform (ReLU).
        gate_layer: gate (sigmoid).

    Shape:
        - Input: ``x``: ``(N, C, H, W)``; ``previous``: ``(N, prev_channels, 1, 1)`` or ``None``
        - Output: a tuple ``(x * a, g * a)`` of shapes ``(N, C, H, W)`` and ``(N, C, 1, 1)``

    Examples:
        >>> import torch, cvattn
        >>> dca = cvattn.create("dcanet", channels=64, prev_channels=32)
        >>> out, att = dca(torch.randn(2, 64, 14, 14), torch.randn(2, 32, 1, 1))
        >>> out.shape, att.shape
        (torch.Size([2, 64, 14, 14]), torch.Size([2, 64, 1, 1]))

    Deviations:
        Only the SE instance (DCA-SE) is provided; the paper also connects CBAM, SK, GE and GC blocks.
        The descriptors passed between blocks are ``(N, C, 1, 1)`` tensors (the official code passes
        ``(N, C)`` vectors): the shape of a pooled map in this package, and the same values.

    Reference:
        Ma, Guo, Tang, Qiao, Chen, Yang, Fu. DCANet: Learning Connected Attentions for Convolutional Neural
        Networks. ICME 2021.
    """

    def __init__(
        self,
        channels: int,
        prev_channels: int | None = None,
        reduction: int = 16,
        act_layer: LayerType = nn.ReLU,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.channels = channels
        self.prev_channels = prev_channels or channels
        hidden = max(1, channels // reduction)
        self.fc = nn.Sequential(
            nn.Linear(channels, hidden),
            create_act(act_layer, inplace=True),
            nn.Linear(hidden, channels),
            create_act(gate_layer),
        )
        self.att_fc = (
            nn.Sequential(
                nn.Linear(self.prev_channels, channels), nn.LayerNorm(channels), nn.ReLU(inplace=True)
            )
            if self.prev_channels != channels
            else nn.Identity()
        )
        self.connect = nn.Conv2d(2, 1, 1)  # alpha * g + beta * p + b
        self.connect_norm = nn.LayerNorm(channels)
        self.connect_act = nn.ReLU(inplace=True)

    def forward(
        self, x: torch.Tensor, previous: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        check_input(x, self.channels, name="x")
        g = x.mean((2, 3))  # extracted descriptor: (N, C)
        if previous is None:
            a = self.fc(g)  # plain SE: (N, C)
        else:
            check_input(previous, self.prev_channels, name="previous")
            p = self.att_fc(previous.flatten(1))  # previous attention, projected: (N, C)
            m = self.connect(torch.stack([g, p], 1).unsqueeze(2))  # (N, 2, 1, C) -> (N, 1, 1, C)
            m = self.connect_act(self.connect_norm(m.flatten(1)))  # (N, C)
            a = self.fc(m)  # (N, C)
        a = a[:, :, None, None]  # (N, C, 1, 1)
        return x * a, g[:, :, None, None] * a
