"""Normalization-based Attention Module (NAM), channel attention.

Paper: "NAM: Normalization-based Attention Module", Yichao Liu, Zongru Shao, Yueyang Teng, Nico Hoffmann, arXiv 2021,
https://arxiv.org/abs/2111.12419.
Official code: https://github.com/Christian-lyc/NAM (``MODELS/attention.py``, ``Channel_Att``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input


@register("nam", kind="attention", inputs=(64, 14, 14), channels=64)
class NAM(nn.Module):
    """NAM channel attention: batch-norm scale factors, normalised to sum to one, weight the channels.

    The input is batch-normalised, ``B = BN(x) = gamma * x_hat + beta``; each channel is then weighted by
    its share of the BN scales, ``w_c = |gamma_c| / sum_j |gamma_j|``, and ``M = sigmoid(w * B)`` gates the
    input: output ``x * M``. The scale ``gamma_c`` sets the variance of channel ``c`` after normalisation;
    a channel with a small scale counts as less salient, and the paper adds an L1 penalty on ``gamma`` to
    the training loss (not part of the module) to push such channels further down. Memory grows with
    ``C*H*W`` (element-wise).

    Args:
        channels: channels ``C``.

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> nam = cvattn.create("nam", channels=64)
        >>> nam(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Only the channel attention is implemented, as in the official code (its ``Att`` wrapper always
        uses ``Channel_Att`` alone); the paper's spatial (pixel-normalisation) sub-module has no official
        code. As officially, the weights ``w`` are computed from a detached ``gamma``, so no gradient
        flows to ``gamma`` through them. The unused official argument ``t`` is omitted.

    Reference:
        Liu, Shao, Teng, Hoffmann. NAM: Normalization-based Attention Module. arXiv 2021.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        if channels < 1:
            raise ValueError(f"channels must be positive, got {channels}")
        self.channels = channels
        self.bn = nn.BatchNorm2d(channels, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        b = self.bn(x)  # BN(x): (N, C, H, W)
        gamma = self.bn.weight.detach().abs()
        w = gamma / gamma.sum()  # channel weights: (C,)
        m = torch.sigmoid(w[:, None, None] * b)  # M_c: (N, C, H, W)
        return x * m
