"""Global filter layer of GFNet.

Paper: "Global Filter Networks for Image Classification", Yongming Rao, Wenliang Zhao, Zheng Zhu, Jiwen Lu,
Jie Zhou, NeurIPS 2021, https://proceedings.neurips.cc/paper/2021/hash/07e87c2f4fc7f7c96116d8e2a92790f5-Abstract.html
(arXiv 2107.00645). Official code: https://github.com/raoyongming/GFNet (``gfnet.py``, ``GlobalFilter``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import check_input, match_memory_format


@fx.wrap
def _spectral_dtype(x: torch.Tensor) -> torch.Tensor:
    """``x`` in at least float32 (the FFT has no half-precision CPU kernel; the official code casts too)."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


@fx.wrap
def _filter_at(weight: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The learned ``(h, w, C, 2)`` filter as a complex ``(C, height, width)`` tensor: used as it is when the
    spectrum has its size, else resized bicubically (``align_corners``), as the official code does."""
    h, w, channels = weight.shape[:3]
    if (h, w) == (height, width):  # the resize would be the identity (cubic weights 0, 1, 0, 0)
        return torch.view_as_complex(weight.permute(2, 0, 1, 3).contiguous())
    k = weight.permute(2, 3, 0, 1).reshape(1, 2 * channels, h, w)
    k = F.interpolate(k, size=(height, width), mode="bicubic", align_corners=True)
    return torch.view_as_complex(k.reshape(channels, 2, height, width).permute(0, 2, 3, 1).contiguous())


@register("gfnet", kind="attention", inputs=(64, 14, 14), channels=64, h=14, w=8)
class GlobalFilter(nn.Module):
    """GFNet global filter: an element-wise product with a learned filter in the 2D Fourier domain.

    Each channel is mixed over all positions by a global circular convolution computed with the FFT:
    ``X = F[x]`` (2D real FFT over the spatial axes, orthonormal), ``X~ = K * X`` with a learned complex
    filter ``K`` of shape ``(h, w, C)`` (``w = W // 2 + 1`` by the Hermitian symmetry of a real signal's
    spectrum), and ``x <- F^-1[X~]``. The cost is ``O(C H W log(H W))``. Memory grows with ``H*W*C``
    (linear in ``H*W``).

    Args:
        channels: channels ``C`` (the embedding dimension).
        h: height of the filter, the map height it is trained for (official default 14).
        w: width of the filter, ``W // 2 + 1`` for the map width ``W`` it is trained for (official default 8,
            for a 14 x 14 map).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> gf = cvattn.create("gfnet", channels=64, h=14, w=8)
        >>> gf(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, HW, C)`` tokens plus the map size. The
        official layer requires ``H == h`` and ``W // 2 + 1 == w``; for any other size this module resizes the
        filter to ``(H, W // 2 + 1)`` by bicubic interpolation with ``align_corners=True`` on each call, which
        is how the official fine-tuning script (``main_gfnet.py``) transfers a filter to a new resolution (at
        the trained size the filter is used unchanged). The official layer always transforms in float32 and
        returns float32; this module transforms half-precision inputs in float32, keeps float64 in float64, and
        returns the input's dtype.

    Reference:
        Rao, Zhao, Zhu, Lu, Zhou. Global Filter Networks for Image Classification. NeurIPS 2021.
    """

    def __init__(self, channels: int, h: int = 14, w: int = 8) -> None:
        super().__init__()
        if channels < 1 or h < 1 or w < 1:
            raise ValueError(f"channels, h and w must be positive, got {channels}, {h}, {w}")
        self.channels, self.h, self.w = channels, h, w
        # real and imaginary parts in the last axis, as the official ``complex_weight``
        self.complex_weight = nn.Parameter(torch.randn(h, w, channels, 2) * 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        height, width = x.shape[-2], x.shape[-1]
        z = torch.fft.rfft2(_spectral_dtype(x), dim=(-2, -1), norm="ortho")  # (N, C, H, W//2+1)
        k = _filter_at(self.complex_weight, height, width // 2 + 1)  # (C, H, W//2+1), complex
        y = torch.fft.irfft2(z * k, s=(height, width), dim=(-2, -1), norm="ortho")  # (N, C, H, W)
        return match_memory_format(y.type_as(x), x)
