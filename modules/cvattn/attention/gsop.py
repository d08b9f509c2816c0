"""Global second-order pooling (GSoP) block, channel-wise.

Paper: "Global Second-order Pooling Convolutional Networks", Zilin Gao, Jiangtao Xie, Qilong Wang, Peihua Li,
CVPR 2019, https://arxiv.org/abs/1811.12006.
Official code: https://github.com/ZilinGao/Global-Second-order-Pooling-Convolutional-Networks
(``torchvision/models/resnet.py``, ``Bottleneck.chan_att``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act


def covariance_pool(x: torch.Tensor) -> torch.Tensor:
    """Channel covariance of each sample, ``(1/M) (X - mean) (X - mean)^T`` over the ``M = H*W`` positions.

    Equal to the official ``X I_hat X^T`` with ``I_hat = (1/M)(I - (1/M) 1 1^T)`` (``MPNCOV.CovpoolLayer``).
    """
    x = x.flatten(2)  # (N, d, M)
    x = x - x.mean(2, keepdim=True)  # centred: (N, d, M)
    return x @ x.transpose(1, 2) / x.shape[2]  # (N, d, d)


@register("gsop", kind="attention", inputs=(256, 14, 14), channels=256)
class GSoP(nn.Module):
    """GSoP block: a channel gate computed from the covariance matrix of the (reduced) channels.

    The input goes through a ReLU and a 1x1 convolution (with bias) that reduces it to ``d`` channels,
    batch norm and ReLU; the ``d x d`` covariance matrix of these channels over the ``H*W`` positions is
    computed (global second-order pooling). Each row of it (one channel's covariances with all others)
    is batch-normalised and convolved by its own ``4`` filters of length ``d`` (the row-wise convolution:
    a grouped ``d x 1`` convolution, ``d -> 4d``), a 1x1 convolution maps the ``4d`` values to one logit
    per input channel, and ``x * sigmoid(logits)`` is returned.

    Args:
        channels: input channels ``C``.
        reduced_channels: width ``d`` after the reduction (official: 128 in every stage of ResNet-50).
        row_expansion: filters per covariance row in the row-wise convolution (official: 4, giving
            ``4d`` values).
        reduce_stride: stride of the reducing 1x1 convolution (official: 2 in ResNet-50's first stage,
            whose maps are 56 x 56, and 1 elsewhere); it only changes how many positions are pooled.
        act_layer: activation on the input and after the reduction (ReLU).
        norm_layer: batch norm after the reduction and on the covariance rows.
        gate_layer: gating function (sigmoid).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> gsop = cvattn.create("gsop", channels=256)
        >>> gsop(torch.randn(2, 256, 14, 14)).shape
        torch.Size([2, 256, 14, 14])

    Deviations:
        Only the channel-wise block (the paper's and the official code's default, ``attention='1'``) is
        provided; the official position (spatial) variant and its fusions are not. The covariance is
        computed by centring the features (the same matrix as the official ``X I_hat X^T`` with its
        ``M x M`` centring matrix, without building that matrix). Parameters as official:
        ``(C d + d) + 2d + 2d + (4d d + 4d) + (4d C + C)``.

    Reference:
        Gao, Xie, Wang, Li. Global Second-order Pooling Convolutional Networks. CVPR 2019.
    """

    def __init__(
        self,
        channels: int,
        reduced_channels: int = 128,
        row_expansion: int = 4,
        reduce_stride: int = 1,
        act_layer: LayerType = nn.ReLU,
        norm_layer: LayerType = nn.BatchNorm2d,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.channels = channels
        d = reduced_channels
        self.act_in = create_act(act_layer)  # not in place: x itself is gated afterwards
        self.reduce = nn.Conv2d(channels, d, 1, stride=reduce_stride, bias=True)
        self.reduce_bn = norm_layer(d)
        self.reduce_act = create_act(act_layer, inplace=True)
        self.row_bn = norm_layer(d)
        # row-wise convolution: group i sees row i of the covariance, (d x 1), through row_expansion filters
        self.row_conv = nn.Conv2d(d, row_expansion * d, (d, 1), groups=d, bias=True)
        self.fc = nn.Conv2d(row_expansion * d, channels, 1, bias=True)
        self.gate = create_act(gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        z = self.reduce_act(self.reduce_bn(self.reduce(self.act_in(x))))  # (N, d, H', W')
        sigma = covariance_pool(z).unsqueeze(-1)  # covariance rows as channels: (N, d, d, 1)
        r = self.row_conv(self.row_bn(sigma))  # row-wise convolution: (N, 4d, 1, 1)
        s = self.gate(self.fc(r))  # (N, C, 1, 1)
        return x * s
