"""SlimConv: a 3x3 convolution that removes channel redundancy by recombining features.

Paper: "SlimConv: Reducing Channel Redundancy in Convolutional Neural Networks by Features Recombining",
Jiaxiong Qiu, Cai Chen, Shuaicheng Liu, Heng-Yu Zhang, Bing Zeng, IEEE TIP 2021,
https://arxiv.org/abs/2003.07469.
Official code: https://github.com/JiaxiongQ/SlimConv (``SC-ResNet.py``, ``slim_conv_3x3``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import BatchNormAnyBatch2d, LayerType, check_input, create_act, get_layer


@register("slimconv", kind="block", inputs=(64, 16, 16), in_channels=64)
class SlimConv(nn.Module):
    """SlimConv: reweight, fold the channels in half in two ways, transform the halves with convs of two widths.

    Features reconstructing: channel weights ``w = sigmoid(W_2 ReLU(BN(W_1 GAP(X))))`` (1x1 convs
    ``C -> C/r -> C``) reweight the input twice, ``X_w = w * X`` and ``X_w' = flip(w) * X`` (the weights in
    reversed channel order), and each is folded by adding its two channel halves:
    ``X_top = X_w[:C/2] + X_w[C/2:]``, ``X_bot = X_w'[:C/2] + X_w'[C/2:]``. Features transforming: the top
    part goes through a 3x3 conv ``C/2 -> C/2`` + BN, the bottom part through a 1x1 conv ``C/2 -> C/4`` +
    BN + ReLU and a 3x3 conv ``C/4 -> C/4`` + BN, and the two are concatenated: ``3C/4`` output channels
    (compression ``k = 4/3``). It replaces the 3x3 conv of a bottleneck; as in the official Sc-ResNet, the
    activation after it belongs to the surrounding block.

    Args:
        in_channels: input channels ``C`` (even).
        stride: stride of the two 3x3 convs.
        dilation: dilation of the two 3x3 convs (their padding equals it, "same").
        groups: groups of the two 3x3 convs (ResNeXt); must divide ``C/2`` and ``C/4``.
        reduction: reduction ratio ``r`` of the weight branch (official: 32); at least one hidden channel.
        act_layer: activation of the weight branch and the bottom path (ReLU).
        gate_layer: gate producing ``w`` (sigmoid).
        norm_layer: normalisation (BatchNorm2d); the one on the pooled descriptor is
            ``BatchNormAnyBatch2d`` for ``nn.BatchNorm2d``.

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C/2 + C/4, H', W')``, ``H' = (H - 1) // stride + 1``

    Examples:
        >>> import torch, cvattn
        >>> slim = cvattn.create("slimconv", in_channels=64)
        >>> slim(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 48, 16, 16])
        >>> cvattn.create("slimconv", in_channels=64, stride=2)(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 48, 8, 8])

    Deviations:
        The hidden width of the weight branch is ``max(C // r, 1)`` instead of ``C // r``, so that blocks
        narrower than ``r`` channels still work (identical for ``C >= r``). With a training batch of one,
        the BatchNorm of the pooled descriptor uses its running statistics.

    Reference:
        Qiu, Chen, Liu, Zhang, Zeng. SlimConv: Reducing Channel Redundancy in Convolutional Neural Networks
        by Features Recombining. IEEE TIP 2021.
    """

    def __init__(
        self,
        in_channels: int,
        stride: int = 1,
        dilation: int = 1,
        groups: int = 1,
        reduction: int = 32,
        act_layer: LayerType = nn.ReLU,
        gate_layer: LayerType = nn.Sigmoid,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        if in_channels % 2 or in_channels < 4:
            raise ValueError(f"SlimConv: expected an even in_channels >= 4, got {in_channels}")
        top, bot = in_channels // 2, in_channels // 4
        if top % groups or bot % groups:
            raise ValueError(
                f"SlimConv: groups ({groups}) must divide in_channels / 2 ({top}) and in_channels / 4 ({bot})"
            )
        self.in_channels = in_channels
        self.out_channels = top + bot
        self.half = top
        hidden = max(in_channels // reduction, 1)
        norm = get_layer(norm_layer)
        pooled_norm = BatchNormAnyBatch2d if norm is nn.BatchNorm2d else norm

        def bn(c: int, pooled: bool = False) -> nn.Module:
            if norm is None:
                return nn.Identity()
            return pooled_norm(c) if pooled else norm(c)

        def conv3x3(c: int) -> nn.Conv2d:
            return nn.Conv2d(c, c, 3, stride, dilation, dilation, groups, bias=False)

        # features reconstructing: w = sigmoid(W_2 ReLU(BN(W_1 GAP(X))))
        self.fc = nn.Sequential(
            nn.Conv2d(in_channels, hidden, 1, bias=False),
            bn(hidden, pooled=True),
            create_act(act_layer, inplace=True),
            nn.Conv2d(hidden, in_channels, 1),
            create_act(gate_layer),
        )
        # features transforming: 3x3 conv on the top part, 1x1 (C/2 -> C/4) + 3x3 on the bottom part
        self.conv_top = nn.Sequential(conv3x3(top), bn(top))
        self.conv_bot = nn.Sequential(
            nn.Conv2d(top, bot, 1, bias=False),
            bn(bot),
            create_act(act_layer, inplace=True),
            conv3x3(bot),
            bn(bot),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        w = self.fc(x.mean((2, 3), keepdim=True))  # channel weights: (N, C, 1, 1)
        x_w = w * x  # (N, C, H, W)
        x_w_flip = torch.flip(w, [1]) * x  # weights in reversed channel order
        c = self.half
        x_top = x_w[:, :c] + x_w[:, c:]  # folded: (N, C/2, H, W)
        x_bot = x_w_flip[:, :c] + x_w_flip[:, c:]  # (N, C/2, H, W)
        y_top = self.conv_top(x_top)  # (N, C/2, H', W')
        y_bot = self.conv_bot(x_bot)  # (N, C/4, H', W')
        return torch.cat([y_top, y_bot], 1)
