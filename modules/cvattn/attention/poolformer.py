"""Pooling token mixer of PoolFormer.

Paper: "MetaFormer Is Actually What You Need for Vision", Weihao Yu, Mi Luo, Pan Zhou, Chenyang Si, Yichen Zhou,
Xinchao Wang, Jiashi Feng, Shuicheng Yan, CVPR 2022,
https://openaccess.thecvf.com/content/CVPR2022/html/Yu_MetaFormer_Is_Actually_What_You_Need_for_Vision_CVPR_2022_paper.html
(arXiv:2111.11418). Official code: https://github.com/sail-sg/poolformer (``models/poolformer.py``, ``Pooling``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input


@register("poolformer", kind="attention", inputs=(64, 14, 14), channels=64, pool_size=3)
class PoolFormerPooling(nn.Module):
    """PoolFormer's token mixer: average pooling over a small window, minus the input.

    ``y = AvgPool_{K x K}(x) - x`` with stride 1 and 'same' padding, where the average at the border is taken over
    the pixels inside the map only (padding not counted). The subtraction cancels the identity that the residual
    connection around the mixer in a MetaFormer block adds back. There are no parameters; memory grows with
    ``H*W*C`` (linear in the number of pixels).

    Args:
        channels: channels ``C`` (only checked; pooling acts on each channel alone).
        pool_size: pooling window ``K``, odd (PoolFormer default 3).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> pool = cvattn.create("poolformer", channels=64, pool_size=3)
        >>> pool(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Reference:
        Yu, Luo, Zhou, Si, Zhou, Wang, Feng, Yan. MetaFormer Is Actually What You Need for Vision. CVPR 2022.
    """

    def __init__(self, channels: int, pool_size: int = 3) -> None:
        super().__init__()
        if channels < 1:
            raise ValueError(f"channels must be positive, got {channels}")
        if pool_size < 1 or pool_size % 2 == 0:
            raise ValueError(f"pool_size must be odd and positive, got {pool_size}")
        self.channels = channels
        self.pool = nn.AvgPool2d(pool_size, stride=1, padding=pool_size // 2, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        return self.pool(x) - x
