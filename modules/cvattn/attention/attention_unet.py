"""Additive attention gate of Attention U-Net.

Paper: "Attention U-Net: Learning Where to Look for the Pancreas", Ozan Oktay, Jo Schlemper, Loic Le Folgoc,
Matthew Lee, Mattias Heinrich, Kazunari Misawa, Kensaku Mori, Steven McDonagh, Nils Y Hammerla, Bernhard Kainz,
Ben Glocker, Daniel Rueckert, MIDL 2018, https://arxiv.org/abs/1804.03999 (https://openreview.net/forum?id=Skft7cijM).
Official code: https://github.com/ozan-oktay/Attention-Gated-Networks
(``models/layers/grid_attention_layer.py``, ``GridAttentionBlock2D``, mode ``concatenation``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input


@register(
    "attention-unet-gate",
    kind="fusion",
    inputs=((32, 16, 16), (64, 8, 8)),
    channels=32,
    gating_channels=64,
)
class AttentionGate(nn.Module):
    """Attention U-Net's additive attention gate: a coarse gating signal decides which skip features pass.

    For skip features ``x`` and the gating signal ``g`` from the coarser decoder level,
    ``q = psi^T relu(W_x^T x + W_g^T g + b_g) + b_psi`` and ``alpha = sigmoid(q)``. ``W_x`` is a
    ``s x s`` convolution with stride ``s`` (no bias) that brings ``x`` to the grid of ``g``, ``W_g`` a
    1x1 convolution whose output is bilinearly resized to that grid, and ``psi`` a 1x1 convolution to one
    channel. The coefficients ``alpha`` are bilinearly upsampled to ``H x W`` and the gated features
    ``alpha * x`` go through a 1x1 convolution and batch norm, as in the official code. Memory grows with
    ``H*W * C_int / s^2`` for the intermediate map (linear in ``H*W``).

    Args:
        channels: channels ``C`` of the skip features ``x``.
        gating_channels: channels ``C_g`` of the gating signal ``g``.
        inter_channels: channels ``C_int`` of the joint map (official default: ``C // 2``, at least 1).
        sub_sample_factor: stride and kernel ``s`` of ``W_x`` (official: 2).
        norm_layer: normalisation after the output 1x1 convolution (BatchNorm2d).

    Shape:
        - Input: ``x``: ``(N, C, H, W)``, ``g``: ``(N, C_g, h, w)`` (any size, usually ``H/2 x W/2``)
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> gate = cvattn.create("attention-unet-gate", channels=32, gating_channels=64)
        >>> gate(torch.randn(2, 32, 16, 16), torch.randn(2, 64, 8, 8)).shape
        torch.Size([2, 32, 16, 16])

    Deviations:
        Returns only the gated output, not the pair ``(output, alpha)``; the attention coefficients are
        available from :meth:`coefficients`. Only the paper's ``concatenation`` mode is implemented, in 2-D
        (the Attention U-Net itself uses the 3-D version of the same gate). ``sub_sample_factor`` is one
        integer used for both axes; the official 2-D class must be given ``(2, 2)`` explicitly, as its
        default ``(2, 2, 2)`` only fits the 3-D convolution.

    Reference:
        Oktay, Schlemper, Le Folgoc, Lee, Heinrich, Misawa, Mori, McDonagh, Hammerla, Kainz, Glocker,
        Rueckert. Attention U-Net: Learning Where to Look for the Pancreas. MIDL 2018.
    """

    def __init__(
        self,
        channels: int,
        gating_channels: int,
        inter_channels: int | None = None,
        sub_sample_factor: int = 2,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        if channels < 1 or gating_channels < 1:
            raise ValueError(
                f"channels ({channels}) and gating_channels ({gating_channels}) must be positive"
            )
        if sub_sample_factor < 1:
            raise ValueError(f"sub_sample_factor must be >= 1, got {sub_sample_factor}")
        if inter_channels is None:
            inter_channels = max(1, channels // 2)
        if inter_channels < 1:
            raise ValueError(f"inter_channels must be positive, got {inter_channels}")
        self.channels, self.gating_channels = channels, gating_channels
        s = sub_sample_factor
        self.theta = nn.Conv2d(channels, inter_channels, s, stride=s, bias=False)  # W_x
        self.phi = nn.Conv2d(gating_channels, inter_channels, 1)  # W_g, b_g
        self.psi = nn.Conv2d(inter_channels, 1, 1)  # psi, b_psi
        self.proj = ConvNormAct(channels, channels, 1, bias=True, norm_layer=norm_layer, act_layer=None)

    def coefficients(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """The attention coefficients ``alpha``, ``(N, 1, H, W)``."""
        check_input(x, self.channels, name="x")
        check_input(g, self.gating_channels, name="g")
        theta_x = self.theta(x)  # (N, C_int, H/s, W/s)
        phi_g = F.interpolate(self.phi(g), size=theta_x.shape[2:], mode="bilinear", align_corners=False)
        q = self.psi(F.relu(theta_x + phi_g))  # (N, 1, H/s, W/s)
        alpha = torch.sigmoid(q)
        return F.interpolate(alpha, size=x.shape[2:], mode="bilinear", align_corners=False)

    def forward(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        alpha = self.coefficients(x, g)  # (N, 1, H, W)
        return self.proj(alpha * x)
