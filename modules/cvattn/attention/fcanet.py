"""Multi-spectral channel attention (FcaNet).

Paper: "FcaNet: Frequency Channel Attention Networks", Zequn Qin, Pengyi Zhang, Fei Wu, Xi Li, ICCV 2021,
https://arxiv.org/abs/2012.11879. Official code: https://github.com/cfzd/FcaNet (``model/layer.py``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input

# The official 'top' frequency ranking on a 7x7 DCT (from the paper's single-frequency ablation).
TOP_X = (0, 0, 6, 0, 0, 1, 1, 4, 5, 1, 3, 0, 0, 0, 3, 2, 4, 6, 3, 5, 5, 2, 6, 5, 5, 3, 3, 4, 2, 2, 6, 1)
TOP_Y = (0, 1, 0, 5, 2, 0, 2, 0, 0, 6, 0, 4, 6, 3, 5, 2, 6, 3, 3, 3, 5, 1, 1, 2, 4, 2, 1, 1, 3, 0, 5, 3)


def dct_basis(freq: int, size: int) -> torch.Tensor:
    """1-D DCT-II basis ``cos(pi f (t + 1/2) / L) / sqrt(L)``, times ``sqrt(2)`` when ``f > 0``."""
    t = torch.arange(size, dtype=torch.float64)
    basis = torch.cos(math.pi * freq * (t + 0.5) / size) / math.sqrt(size)
    return basis * math.sqrt(2) if freq else basis


def dct_filters(channels: int, size: int, num_freq: int) -> torch.Tensor:
    """``(C, size, size)`` filters: channel group ``i`` gets the ``i``-th top frequency (scaled to ``size``)."""
    if channels % num_freq:
        raise ValueError(f"channels ({channels}) must be divisible by the number of frequencies ({num_freq})")
    scale = size // 7
    part = channels // num_freq
    filters = torch.empty(channels, size, size, dtype=torch.float64)
    for i in range(num_freq):
        u, v = TOP_X[i] * scale, TOP_Y[i] * scale
        filters[i * part : (i + 1) * part] = torch.outer(dct_basis(u, size), dct_basis(v, size))
    return filters.float()


@register("fcanet", kind="attention", inputs=(64, 14, 14), channels=64)
class MultiSpectralAttention(nn.Module):
    """FcaNet's multi-spectral channel attention: SE with the global average replaced by several 2-D DCT
    components, one per channel group.

    The input is average-pooled to ``size x size`` when it is another size (the official code pools to
    its ``dct_h x dct_w``); the channels are split into ``num_freq`` groups and each group is compressed
    with its own fixed DCT basis (the paper's ``top`` selection, e.g. ``top16``), giving ``Freq`` of shape
    ``(N, C)``. Then ``x * sigmoid(W_2 ReLU(W_1 Freq))`` as SE, with bias-free layers. The lowest frequency
    alone is the global average pooling (up to a constant), so SE is a special case.

    Args:
        channels: input channels ``C`` (divisible by ``num_freq``).
        reduction: SE reduction (16).
        num_freq: number of selected frequencies (16, the paper's ``top16``); at most 32. Lowered to
            ``gcd(C, num_freq)`` when it does not divide ``C`` (the official layer fails then).
        size: DCT size; the input is pooled to ``size x size`` (7, the official setting for the last stage;
            the official ResNet uses 56, 28, 14, 7 per stage).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> fca = cvattn.create("fcanet", channels=64)
        >>> fca(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        ``size`` defaults to 7 for every stage (the official network ties it to the stage's resolution);
        pooling to the DCT size uses adaptive average pooling as the official layer does.

    Reference:
        Qin, Zhang, Wu, Li. FcaNet: Frequency Channel Attention Networks. ICCV 2021.
    """

    def __init__(self, channels: int, reduction: int = 16, num_freq: int = 16, size: int = 7) -> None:
        super().__init__()
        if not 1 <= num_freq <= len(TOP_X):
            raise ValueError(f"num_freq must be in 1..{len(TOP_X)}, got {num_freq}")
        self.channels, self.size = channels, size
        self.num_freq = math.gcd(channels, num_freq)  # frequencies must split the channels evenly
        self.register_buffer("filters", dct_filters(channels, size, self.num_freq), persistent=False)
        hidden = max(1, channels // reduction)
        self.fc = nn.Sequential(
            nn.Linear(channels, hidden, bias=False),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, channels, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        pooled = F.adaptive_avg_pool2d(x, self.size)  # (N, C, size, size)
        freq = (pooled * self.filters).sum((2, 3))  # multi-spectral compression: (N, C)
        return x * torch.sigmoid(self.fc(freq))[:, :, None, None]
