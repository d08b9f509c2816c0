"""Triplet Attention.

Paper: "Rotate to Attend: Convolutional Triplet Attention Module", Diganta Misra, Trikay Nalamada, Ajay Uppili
Arasanipalai, Qibin Hou, WACV 2021, https://arxiv.org/abs/2010.03045. Official code:
https://github.com/landskape-ai/triplet-attention (``MODELS/triplet_attention.py``).
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act, get_layer

#: The official gate's BatchNorm (``momentum=0.01`` in PyTorch's convention).
_TRIPLET_BN = partial(nn.BatchNorm2d, eps=1e-5, momentum=0.01)


class _AttentionGate(nn.Sequential):
    """Z-pooled ``(N, 2, A, B)`` map -> conv k x k (no bias) -> BN -> gate, giving ``(N, 1, A, B)``."""

    def __init__(self, kernel_size: int, norm_layer: LayerType, gate_layer: LayerType) -> None:
        norm = get_layer(norm_layer)
        super().__init__(
            nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False),
            norm(1) if norm is not None else nn.Identity(),
            create_act(gate_layer),
        )


def _z_pool(x: torch.Tensor, dim: int) -> torch.Tensor:
    """Z-pool: max and mean over ``dim``, stacked as two channels (max first) in dim 1."""
    return torch.stack([x.max(dim)[0], x.mean(dim)], 1)


@register("triplet-attention", kind="attention", inputs=(64, 14, 14), channels=64)
class TripletAttention(nn.Module):
    """Triplet attention: three gates, each over one pair of the (C, H, W) dimensions, averaged.

    Each branch rotates the tensor so that one dimension is pooled away by Z-pool (max and mean,
    concatenated), convolves the remaining 2-D plane with a k x k conv + BN, and gates the input with
    its sigmoid: the C-W branch pools over H, the H-C branch pools over W, the H-W branch (a CBAM-style
    spatial gate) pools over C. The output is ``(x*a_cw + x*a_hc + x*a_hw) / 3``. Instead of permuting the
    input as the official code does, each branch pools the input along its dimension and the gate is
    broadcast back, which is the same computation without copies.

    Args:
        channels: input channels ``C`` (only checked; the gates have a fixed size, 3 x (2k² + 2) parameters).
        kernel_size: conv size of every branch, odd (official: 7).
        no_spatial: drop the H-W branch and average the other two (official option, default off).
        norm_layer: normalisation after each conv (BatchNorm2d with ``momentum=0.01``, as the official code).
        gate_layer: gate (sigmoid).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> ta = cvattn.create("triplet-attention", channels=64)
        >>> ta(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Reference:
        Misra, Nalamada, Arasanipalai, Hou. Rotate to Attend: Convolutional Triplet Attention Module. WACV 2021.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int = 7,
        no_spatial: bool = False,
        norm_layer: LayerType = _TRIPLET_BN,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.channels = channels
        self.no_spatial = no_spatial
        self.cw = _AttentionGate(kernel_size, norm_layer, gate_layer)
        self.hc = _AttentionGate(kernel_size, norm_layer, gate_layer)
        self.hw = None if no_spatial else _AttentionGate(kernel_size, norm_layer, gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        a_cw = self.cw(_z_pool(x, 2)).transpose(1, 2)  # plane (C, W): (N, 1, C, W) -> (N, C, 1, W)
        a_hc = self.hc(_z_pool(x, 3).transpose(2, 3)).permute(0, 3, 2, 1)  # plane (H, C) -> (N, C, H, 1)
        if self.hw is None:
            return x * ((a_cw + a_hc) / 2)
        a_hw = self.hw(_z_pool(x, 1))  # plane (H, W): (N, 1, H, W)
        return x * ((a_cw + a_hc + a_hw) / 3)  # (x*a_cw + x*a_hc + x*a_hw) / 3
