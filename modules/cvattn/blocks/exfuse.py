"""Semantic Embedding Branch (ExFuse).

Paper: "ExFuse: Enhancing Feature Fusion for Semantic Segmentation", Zhenli Zhang, Xiangyu Zhang, Chao Peng,
Xiangyang Xue, Jian Sun, ECCV 2018, https://arxiv.org/abs/1804.03821. No official code was released.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input


@register(
    "exfuse",
    kind="fusion",
    inputs=((64, 16, 16), (128, 8, 8)),
    odd_inputs=((64, 13, 17), (128, 7, 9)),
    channels=64,
    high_channels=128,
)
class SemanticEmbeddingBranch(nn.Module):
    """Semantic embedding branch: high-level features, convolved and up-sampled, multiply low-level ones.

    Low-level features are spatially precise but semantically weak, so fusing them as they are with
    high-level features adds noise. SEB embeds semantics into the low-level map ``x`` before the fusion:
    the high-level map ``y`` goes through a 3x3 conv to ``x``'s channel count, is bilinearly up-sampled to
    ``x``'s size, and multiplies ``x`` element-wise: ``x' = x * Up(Conv3x3(y))``.

    Args:
        channels: channels of the low-level input ``x`` (and of the output).
        high_channels: channels of the high-level input ``y``.
        kernel_size: kernel size of the conv on ``y`` (paper: 3).
        bias: bias of that conv.
        align_corners: ``align_corners`` of the bilinear up-sampling.

    Shape:
        - Input ``x``: ``(N, channels, H, W)`` (low level)
        - Input ``y``: ``(N, high_channels, h, w)`` (high level, any size, usually ``H / 2``)
        - Output: ``(N, channels, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> seb = cvattn.create("exfuse", channels=64, high_channels=128)
        >>> seb(torch.randn(2, 64, 16, 16), torch.randn(2, 128, 8, 8)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        The paper multiplies level ``l`` by the embeddings of all higher levels,
        ``x_l * prod_{i > l} Up(Conv(x_i))``; this block takes one high-level map, and several are applied
        by chaining blocks (the product is the same). Bias, padding and interpolation details are not
        given in the paper (there is no official code); this uses a biased, "same"-padded conv and
        bilinear up-sampling to ``x``'s exact size.

    Reference:
        Zhang, Zhang, Peng, Xue, Sun. ExFuse: Enhancing Feature Fusion for Semantic Segmentation. ECCV 2018.
    """

    def __init__(
        self,
        channels: int,
        high_channels: int,
        kernel_size: int = 3,
        bias: bool = True,
        align_corners: bool = False,
    ) -> None:
        super().__init__()
        self.channels = channels
        self.high_channels = high_channels
        self.align_corners = align_corners
        self.conv = nn.Conv2d(high_channels, channels, kernel_size, padding=kernel_size // 2, bias=bias)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels, name="x (low-level)")
        check_input(y, self.high_channels, name="y (high-level)")
        s = self.conv(y)  # semantics at high-level resolution: (N, C, h, w)
        s = F.interpolate(s, size=(x.shape[2], x.shape[3]), mode="bilinear", align_corners=self.align_corners)
        return x * s  # (N, C, H, W)
