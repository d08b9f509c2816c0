"""BAM: Bottleneck Attention Module.

Paper: "BAM: Bottleneck Attention Module", Jongchan Park, Sanghyun Woo, Joon-Young Lee, In So Kweon, BMVC 2018,
https://arxiv.org/abs/1807.06514. Official code: https://github.com/Jongchan/attention-module
(``MODELS/bam.py``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import BatchNormAnyBatch2d, LayerType, check_input, create_act, get_layer


@register("bam", kind="attention", inputs=(64, 14, 14), channels=64)
class BAM(nn.Module):
    """BAM: a residual attention map from parallel channel and spatial branches.

    Channel branch: ``M_c = W1 relu(BN(W0 avgpool(x)))`` (``C -> C/r -> C``, fully connected with bias).
    Spatial branch: ``M_s = f_1x1(f_3x3(f_3x3(f_1x1(x))))``: a 1x1 conv-BN-ReLU to ``C/r``, two 3x3
    conv-BN-ReLU with dilation ``d`` and a 1x1 conv to one map (convs with bias). The attention is
    ``M = sigmoid(M_c + M_s)`` (broadcast to ``C x H x W``) and the output ``x + x * M``.

    Args:
        channels: input channels ``C``.
        reduction: reduction ratio ``r`` of both branches (paper and official code: 16).
        dilation: dilation ``d`` of the 3x3 convs (paper and official code: 4).
        num_dilated: number of dilated 3x3 convs (official ``dilation_conv_num``: 2).
        combine: ``"add"`` for ``sigmoid(M_c + M_s)`` (the paper, which found it best among sum,
            product and max) or ``"mul"`` for ``sigmoid(M_c * M_s)`` (what the official code computes).
        act_layer: activation (ReLU).
        gate_layer: gate (sigmoid).
        norm_layer: normalisation (BatchNorm; the channel branch uses :class:`BatchNormAnyBatch2d`
            unless another layer is given).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> bam = cvattn.create("bam", channels=64)
        >>> bam(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        ``combine="add"`` follows the paper (Eq. 2 and its ablation); the official code multiplies the two
        branches, so pass ``combine="mul"`` to reproduce it. The official channel branch (``nn.Linear`` +
        ``BatchNorm1d``) is written as 1x1 convs + BatchNorm on the ``(N, C, 1, 1)`` descriptor: the same
        map, parameters and statistics; with a training batch of one that BatchNorm uses its running
        statistics, where the official code raises. The channel branch pools the whole map (global average
        pooling, as the paper says); the official ``ChannelGate`` calls ``avg_pool2d`` with an ``H x H``
        window and stride ``H``, which equals global pooling on square maps only: on an ``H x W`` map with
        ``H < W < 2H`` it averages the left ``H x H`` window alone, and for ``W < H`` or ``W >= 2H`` it fails
        (its ``nn.Linear`` gets the wrong width). The two therefore differ on non-square maps.

    Reference:
        Park, Woo, Lee, Kweon. BAM: Bottleneck Attention Module. BMVC 2018.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 16,
        dilation: int = 4,
        num_dilated: int = 2,
        combine: str = "add",
        act_layer: LayerType = nn.ReLU,
        gate_layer: LayerType = nn.Sigmoid,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        if combine not in ("add", "mul"):
            raise ValueError(f"combine must be 'add' or 'mul', got {combine!r}")
        self.channels = channels
        self.combine = combine
        hidden = max(1, channels // reduction)
        norm = get_layer(norm_layer)
        pooled_norm = BatchNormAnyBatch2d if norm is nn.BatchNorm2d else norm
        self.channel_att = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, bias=True),
            pooled_norm(hidden),
            create_act(act_layer, inplace=True),
            nn.Conv2d(hidden, channels, 1, bias=True),
        )
        layers: list[nn.Module] = [
            nn.Conv2d(channels, hidden, 1, bias=True),
            norm(hidden),
            create_act(act_layer, inplace=True),
        ]
        for _ in range(num_dilated):
            layers += [
                nn.Conv2d(hidden, hidden, 3, padding=dilation, dilation=dilation, bias=True),
                norm(hidden),
                create_act(act_layer, inplace=True),
            ]
        layers.append(nn.Conv2d(hidden, 1, 1, bias=True))
        self.spatial_att = nn.Sequential(*layers)
        self.gate = create_act(gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        m_c = self.channel_att(x.mean((2, 3), keepdim=True))  # (N, C, 1, 1)
        m_s = self.spatial_att(x)  # (N, 1, H, W)
        m = self.gate(m_c + m_s if self.combine == "add" else m_c * m_s)  # (N, C, H, W)
        return x * (1 + m)  # x + x * m, with one product in the backward pass instead of a product and a sum
