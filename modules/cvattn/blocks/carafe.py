"""CARAFE: content-aware reassembly of features, an upsampler with kernels predicted from the content.

Paper: "CARAFE: Content-Aware ReAssembly of FEatures", Jiaqi Wang, Kai Chen, Rui Xu, Ziwei Liu, Chen Change
Loy, Dahua Lin, ICCV 2019, https://arxiv.org/abs/1905.02188. Official code: https://github.com/myownskyW7/CARAFE
(``CARAFEPack`` on a CUDA operator, also in mmcv); the reassembly is written here in PyTorch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input


@register("carafe", kind="block", inputs=(64, 16, 16), channels=64, scale_factor=2)
class CARAFE(nn.Module):
    """CARAFE: every output pixel is a softmax-weighted sum of a ``k_up x k_up`` source neighbourhood.

    A 1x1 conv compresses the channels to ``C_m``, a ``k_encoder x k_encoder`` conv (the content encoder)
    predicts ``sigma^2 * k_up^2`` kernel values per source pixel (``sigma``: the scale factor, times
    ``up_group`` groups), a pixel shuffle spreads them over the ``sigma x sigma`` output pixels it covers
    and a softmax over the ``k_up^2`` values normalises each kernel. Output pixel ``l'`` with source
    ``l = floor(l' / sigma)`` is then ``sum_{n, m} W_{l'}(n, m) X(l + (n, m))`` over the neighbourhood
    (zero outside the map), the channels of a group sharing the kernel. The kernels adapt to the content
    and cover a large field at little cost.

    Args:
        channels: input (and output) channels.
        scale_factor: upsampling ratio ``sigma`` (2).
        up_kernel: reassembly kernel size ``k_up`` (5).
        up_group: channel groups with their own kernels (1).
        encoder_kernel: content-encoder kernel size ``k_encoder`` (3).
        encoder_dilation: content-encoder dilation (1).
        compressed_channels: channels ``C_m`` after the compressor (64).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, sigma * H, sigma * W)``

    Examples:
        >>> import torch, cvattn
        >>> up = cvattn.create("carafe", channels=64, scale_factor=2)
        >>> up(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 32, 32])

    Deviations:
        The reassembly is computed with ``unfold`` and a matmul instead of the CUDA kernel, and the
        kernels are normalised before the pixel shuffle (the same softmax over the same values).

    Reference:
        Wang et al. CARAFE: Content-Aware ReAssembly of FEatures. ICCV 2019.
    """

    def __init__(
        self,
        channels: int,
        scale_factor: int = 2,
        up_kernel: int = 5,
        up_group: int = 1,
        encoder_kernel: int = 3,
        encoder_dilation: int = 1,
        compressed_channels: int = 64,
    ) -> None:
        super().__init__()
        if up_kernel % 2 == 0:
            raise ValueError(f"up_kernel must be odd, got {up_kernel}")
        if channels % up_group:
            raise ValueError(f"channels ({channels}) must be divisible by up_group ({up_group})")
        self.channels = channels
        self.scale_factor = scale_factor
        self.up_kernel = up_kernel
        self.up_group = up_group
        self.channel_compressor = nn.Conv2d(channels, compressed_channels, 1)
        self.content_encoder = nn.Conv2d(
            compressed_channels,
            up_kernel * up_kernel * up_group * scale_factor * scale_factor,
            encoder_kernel,
            padding=(encoder_kernel - 1) * encoder_dilation // 2,
            dilation=encoder_dilation,
        )
        # the official initialisation: Xavier-uniform compressor, near-zero encoder (uniform kernels at first)
        nn.init.xavier_uniform_(self.channel_compressor.weight)
        nn.init.zeros_(self.channel_compressor.bias)
        nn.init.normal_(self.content_encoder.weight, std=0.001)
        nn.init.zeros_(self.content_encoder.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h, w = x.shape
        k, s, g = self.up_kernel, self.scale_factor, self.up_group
        kernels = self.content_encoder(self.channel_compressor(x))  # (N, G*k*k*s*s, H, W)
        kernels = kernels.reshape(n, g, k * k, s * s, h * w).softmax(2)  # W_l': softmax over the k*k taps
        patches = F.unfold(x, k, padding=k // 2).view(n, g, c // g, k * k, h * w)  # X(l + (n, m))
        # each output pixel: (C/G x k*k taps) @ (k*k taps x s*s sub-pixels), batched over N, G and positions
        out = torch.matmul(
            patches.permute(0, 1, 4, 2, 3), kernels.permute(0, 1, 4, 2, 3)
        )  # (N, G, HW, C/G, s*s)
        out = out.view(n, g, h, w, c // g, s, s).permute(0, 1, 4, 2, 5, 3, 6)  # (N, G, C/G, H, s, W, s)
        return out.contiguous().view(n, c, h * s, w * s)
