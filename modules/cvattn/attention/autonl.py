"""Lightweight Non-Local block (LightNL) of AutoNL.

Paper: "Neural Architecture Search for Lightweight Non-Local Networks", Yingwei Li, Xiaojie Jin, Jieru Mei,
Xiaochen Lian, Linjie Yang, Cihang Xie, Qihang Yu, Yuyin Zhou, Song Bai, Alan Yuille, CVPR 2020,
https://arxiv.org/abs/2004.01961. Official code (TensorFlow): https://github.com/LiYingwei/AutoNL
(``model_def.py``: ``non_local_op``, ``MnasBlock._call_non_local``); the authors' PyTorch port with the
searched architectures: https://github.com/meijieru/yet_another_mobilenet_series
(``models/mobilenet_base.py``: ``Nonlocal``, ``apps/searched/models/autonl/autonl_l.yml``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input


@register("autonl", kind="attention", inputs=(64, 14, 14), channels=64)
class LightNL(nn.Module):
    """LightNL: a non-local block without query/key/value transforms, on compact features.

    The affinity is the plain dot product of the features themselves (no ``theta``/``phi``/``g``
    convolutions and no softmax): with ``x_c`` the first ``r = int(channel_ratio * C)`` channels of ``x``,
    ``x_s`` the map subsampled with stride ``s`` (every ``s``-th row and column) and ``x_sc`` both,
    ``y = x_c x_sc^T x_s / (H*W)``, i.e. ``y_i = 1/(HW) sum_j (x_c,i . x_sc,j) x_s,j`` over the ``M``
    subsampled positions ``j``. The output transform is a 3x3 depthwise convolution followed by BatchNorm,
    added to the input: ``z = BN(DWConv(y)) + x``. The product is evaluated as ``(x_sc x_s^T)`` first, an
    ``r x C`` matrix, so memory and time grow linearly with ``H*W``.

    Args:
        channels: input channels ``C``.
        channel_ratio: fraction of the channels used for the affinity, the searched ``nl_c`` (default 0.25,
            the most frequent choice in the searched AutoNL-L and AutoNL-S; 0.125 is the other option).
        stride: spatial subsampling of keys and values, the searched ``nl_s`` (default 1, the most frequent
            choice in AutoNL-L; 2 is the other option).
        kernel_size: size of the depthwise output convolution (3).
        norm_layer: normalisation after the depthwise convolution (BatchNorm2d).
        zero_init: start the BatchNorm scale at zero as the official code (``--nl_zero_init``, default true
            there), so the block starts as an identity (default false, see Deviations).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> nl = cvattn.create("autonl", channels=64)
        >>> nl.reduced_channels
        16
        >>> nl(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        ``zero_init`` defaults to false: with a zero BatchNorm scale nothing reaches the depthwise
        convolution at the first step, which the package's gradient check rejects; pass
        ``zero_init=True`` for the official initialisation. The official code picks whichever
        multiplication order needs fewer MACs for the given shape; here the order linear in ``H*W`` is
        always used (the same value up to rounding). BatchNorm keeps PyTorch's ``eps``/``momentum``
        (the TensorFlow model: ``eps=1e-3``, decay 0.99). The authors' PyTorch port divides by
        ``H`` and multiplies by ``W`` (``f / H * W``); this follows the TensorFlow code, ``1/(H*W)``.

    Reference:
        Li et al. Neural Architecture Search for Lightweight Non-Local Networks. CVPR 2020.
    """

    def __init__(
        self,
        channels: int,
        channel_ratio: float = 0.25,
        stride: int = 1,
        kernel_size: int = 3,
        norm_layer: LayerType = nn.BatchNorm2d,
        zero_init: bool = False,
    ) -> None:
        super().__init__()
        if not 0 < channel_ratio <= 1:
            raise ValueError(f"channel_ratio must be in (0, 1], got {channel_ratio}")
        if stride < 1:
            raise ValueError(f"stride must be a positive integer, got {stride}")
        self.channels, self.stride = channels, stride
        self.reduced_channels = max(1, int(channel_ratio * channels))
        self.depthwise_conv = nn.Conv2d(
            channels, channels, kernel_size, padding=kernel_size // 2, groups=channels, bias=False
        )
        self.bn = norm_layer(channels)
        if zero_init:
            nn.init.zeros_(self.bn.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        h, w = x.shape[2], x.shape[3]
        r = self.reduced_channels
        x_s = x[:, :, :: self.stride, :: self.stride]  # subsampled keys/values: (N, C, H', W')
        x_c = x[:, :r].flatten(2)  # queries, channel subset: (N, r, HW)
        x_sc = x_s[:, :r].flatten(2)  # keys: (N, r, M)
        x_s = x_s.flatten(2)  # values: (N, C, M)
        kv = x_sc @ x_s.transpose(1, 2)  # sum_j x_sc,j x_s,j^T: (N, r, C)
        y = kv.transpose(1, 2) @ x_c  # (N, C, HW)
        y = (y / (h * w)).reshape_as(x)  # normalised by the number of positions: (N, C, H, W)
        return self.bn(self.depthwise_conv(y)) + x
