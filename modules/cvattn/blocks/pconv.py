"""Partial convolution (PConv) and the FasterNet block.

Paper: "Run, Don't Walk: Chasing Higher FLOPS for Faster Neural Networks", Jierun Chen, Shiu-hong Kao, Hao He,
Weipeng Zhuo, Song Wen, Chul-Ho Lee, S.-H. Gary Chan, CVPR 2023, https://arxiv.org/abs/2303.03667.
Official code: https://github.com/JierunChen/FasterNet (``models/fasternet.py``, ``Partial_conv3`` and
``MLPBlock``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act, drop_path


@register("pconv", kind="block", inputs=(64, 14, 14), channels=64)
class PartialConv(nn.Module):
    """Partial convolution: a regular conv on the first ``C / n_div`` channels, the others passed through.

    ``y = concat(W * x[:, :C_p], x[:, C_p:])`` with ``C_p = C // n_div`` and a ``k x k`` kernel ``W`` from
    ``C_p`` to ``C_p`` channels (no bias). Feature maps are redundant across channels, so convolving a quarter
    of them (the first ones, standing for all) keeps most of the spatial mixing at ``1 / n_div^2`` of the
    FLOPs and ``1 / n_div`` of the memory traffic of a full conv, which runs at a higher FLOPS than a
    depthwise conv. The following pointwise layers let every channel see the result.

    Args:
        channels: channels ``C`` (the block keeps them).
        n_div: the convolved share is ``C // n_div`` channels (paper: 4, a partial ratio of 1/4).
        kernel_size: the conv's kernel size, odd (paper: 3).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> pconv = cvattn.create("pconv", channels=64)
        >>> x = torch.randn(2, 64, 14, 14)
        >>> y = pconv(x)
        >>> y.shape
        torch.Size([2, 64, 14, 14])
        >>> torch.equal(y[:, 16:], x[:, 16:])  # the untouched channels
        True

    Deviations:
        ``kernel_size`` is an argument (3 in the official ``Partial_conv3``). One forward serves training and
        inference: the official ``split_cat`` form (the ``slicing`` form computes the same values).

    Reference:
        Chen, Kao, He, Zhuo, Wen, Lee, Chan. Run, Don't Walk: Chasing Higher FLOPS for Faster Neural Networks.
        CVPR 2023.
    """

    def __init__(self, channels: int, n_div: int = 4, kernel_size: int = 3) -> None:
        super().__init__()
        if n_div < 1 or channels // n_div < 1:
            raise ValueError(f"expected 1 <= n_div <= channels, got n_div={n_div} for {channels} channels")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and positive, got {kernel_size}")
        self.channels = channels
        self.dim_conv = channels // n_div
        self.dim_untouched = channels - self.dim_conv
        self.conv = nn.Conv2d(self.dim_conv, self.dim_conv, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        x_p, x_u = torch.split(x, [self.dim_conv, self.dim_untouched], dim=1)
        return torch.cat((self.conv(x_p), x_u), dim=1)


@register("pconv-block", kind="block", inputs=(64, 14, 14), channels=64)
class FasterNetBlock(nn.Module):
    """FasterNet block: PConv followed by a pointwise inverted bottleneck (1x1 conv, BN, activation, 1x1 conv)
    on a residual.

    ``y = x + DropPath(gamma * W_2 act(BN(W_1 PConv(x))))``, ``W_1`` widening the channels ``mlp_ratio`` times
    and ``W_2`` narrowing them back, both 1x1 convs without bias; the two 1x1 convs and PConv together act
    like a T-shaped conv that focuses on the centre position. Normalisation and activation sit only in the
    middle, to keep the block fast. The layer scale ``gamma`` is off by default (as in every FasterNet).

    Args:
        channels: channels ``C`` (the block keeps them).
        n_div: PConv convolves ``C // n_div`` channels (paper: 4).
        mlp_ratio: hidden width as a multiple of ``channels`` (paper: 2).
        kernel_size: PConv's kernel size (paper: 3).
        layer_scale_init_value: initial per-channel layer scale; ``0`` (paper) leaves it out.
        drop_path: stochastic-depth probability per sample in training (0: off; FasterNet ramps it up to
            0.0 to 0.3 over the blocks, by model size).
        act_layer: the activation (ReLU for FasterNet-T2/S/M/L, GELU for T0/T1).
        norm_layer: the normalisation after ``W_1`` (BatchNorm).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> block = cvattn.create("pconv-block", channels=64)
        >>> block(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Stochastic depth is :func:`cvattn.layers.drop_path` (the official block uses timm's ``DropPath``,
        with the same scaling). The activation is not in place (the official ReLU is ``inplace=True``).

    Reference:
        Chen, Kao, He, Zhuo, Wen, Lee, Chan. Run, Don't Walk: Chasing Higher FLOPS for Faster Neural Networks.
        CVPR 2023.
    """

    def __init__(
        self,
        channels: int,
        n_div: int = 4,
        mlp_ratio: float = 2.0,
        kernel_size: int = 3,
        layer_scale_init_value: float = 0.0,
        drop_path: float = 0.0,
        act_layer: LayerType = nn.ReLU,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        if not 0.0 <= drop_path < 1.0:
            raise ValueError(f"drop_path must be in [0, 1), got {drop_path}")
        hidden = int(channels * mlp_ratio)
        self.channels = channels
        self.drop_prob = drop_path
        self.spatial_mixing = PartialConv(channels, n_div, kernel_size)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, bias=False),
            norm_layer(hidden),
            create_act(act_layer),
            nn.Conv2d(hidden, channels, 1, bias=False),
        )
        if layer_scale_init_value > 0:
            self.layer_scale = nn.Parameter(torch.full((channels,), float(layer_scale_init_value)))
        else:
            self.layer_scale = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        z = self.mlp(self.spatial_mixing(x))
        if self.layer_scale is not None:
            z = self.layer_scale[:, None, None] * z
        return x + drop_path(z, self.drop_prob, self.training)
