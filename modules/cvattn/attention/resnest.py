"""ResNeSt split attention.

Paper: "ResNeSt: Split-Attention Networks", Hang Zhang, Chongruo Wu, Zhongyue Zhang, Yi Zhu, Haibin Lin, Zhi
Zhang, Yue Sun, Tong He, Jonas Mueller, R. Manmatha, Mu Li, Alexander Smola, CVPR Workshops 2022 (arXiv 2020),
https://arxiv.org/abs/2004.08955. Official code: https://github.com/zhanghang1989/ResNeSt
(``resnest/torch/models/splat.py``, ``SplAtConv2d``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import BatchNormAnyBatch2d, LayerType, check_input, create_act, get_layer


@register("resnest", kind="block", inputs=(64, 16, 16), in_channels=64, out_channels=64)
class SplitAttentionConv2d(nn.Module):
    """Split-attention convolution: a grouped conv into ``radix`` splits, fused by a softmax over the splits.

    A grouped conv (``groups * radix`` groups) with BN and ReLU gives ``R`` splits ``U_1..U_R`` of ``C``
    channels each. Their sum is pooled, ``s = GAP(sum_r U_r)``, and a bottleneck
    ``a = fc2(ReLU(BN(fc1(s))))`` (grouped 1x1 convs with bias, ``C -> hidden -> R*C``) gives one logit per
    split and channel; within each cardinal group a softmax over the splits (``r-softmax``; sigmoid when
    ``radix == 1``) turns them into weights and the output is ``V = sum_r a_r * U_r``.

    Args:
        in_channels: input channels.
        out_channels: output channels ``C``.
        kernel_size: conv size (ResNeSt blocks: 3).
        stride: conv stride.
        padding: conv padding; ``None`` gives ``dilation * (kernel_size - 1) // 2``.
        dilation: conv dilation.
        groups: cardinality ``K`` (official default: 1).
        bias: bias of the split conv (ResNeSt blocks: False).
        radix: number of splits ``R`` per cardinal group (official: 2).
        reduction: the bottleneck width is ``max(in_channels * radix // reduction, min_hidden)``
            (official ``reduction_factor``: 4).
        min_hidden: lower bound of the bottleneck width (official: 32).
        act_layer: activation (ReLU).
        norm_layer: normalisation after the split conv and in the bottleneck (BatchNorm2d; the pooled
            one is ``BatchNormAnyBatch2d``); ``None`` for none, as the official ``norm_layer=None``.

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H', W')`` with the conv's output size

    Examples:
        >>> import torch, cvattn
        >>> splat = cvattn.create("resnest", in_channels=64, out_channels=64)
        >>> splat(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        The rectified conv (``rectify``) and DropBlock options of the official class are not provided.
        With a training batch of one, the bottleneck's BatchNorm uses its running statistics.

    Reference:
        Zhang et al. ResNeSt: Split-Attention Networks. CVPR Workshops 2022.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | None = None,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = False,
        radix: int = 2,
        reduction: int = 4,
        min_hidden: int = 32,
        act_layer: LayerType = nn.ReLU,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        if padding is None:
            padding = dilation * (kernel_size - 1) // 2
        self.in_channels, self.out_channels = in_channels, out_channels
        self.radix, self.cardinality = radix, groups
        hidden = max(in_channels * radix // reduction, min_hidden)
        norm = get_layer(norm_layer)
        pooled_norm = BatchNormAnyBatch2d if norm is nn.BatchNorm2d else norm
        self.conv = nn.Conv2d(
            in_channels,
            out_channels * radix,
            kernel_size,
            stride,
            padding,
            dilation,
            groups * radix,
            bias=bias,
        )
        self.bn0 = norm(out_channels * radix) if norm is not None else nn.Identity()
        self.act0 = create_act(act_layer, inplace=True)
        self.fc1 = nn.Conv2d(out_channels, hidden, 1, groups=groups, bias=True)
        self.bn1 = pooled_norm(hidden) if norm is not None else nn.Identity()
        self.act1 = create_act(act_layer, inplace=True)
        self.fc2 = nn.Conv2d(hidden, out_channels * radix, 1, groups=groups, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        n = x.size(0)
        u = self.act0(self.bn0(self.conv(x)))  # R splits, radix-major: (N, R*C, H, W)
        s = u.mean((2, 3), keepdim=True).unflatten(1, (self.radix, -1)).sum(1)  # GAP(sum_r U_r): (N, C, 1, 1)
        z = self.act1(self.bn1(self.fc1(s)))  # (N, hidden, 1, 1)
        logits = self.fc2(z)  # (N, K*R*C/K, 1, 1), ordered (cardinal group, split, channel)
        if self.radix > 1:
            a = logits.reshape(n, self.cardinality, self.radix, -1).softmax(2)  # r-softmax over the splits
            a = a.transpose(1, 2).reshape(n, self.radix, -1, 1, 1)  # (N, R, C, 1, 1)
        else:
            a = torch.sigmoid(logits).unsqueeze(1)  # (N, 1, C, 1, 1)
        return (u.unflatten(1, (self.radix, -1)) * a).sum(1)  # V = sum_r a_r * U_r: (N, C, H, W)
