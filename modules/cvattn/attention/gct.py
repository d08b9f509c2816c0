"""Gated Channel Transformation.

Paper: "Gated Channel Transformation for Visual Recognition", Zongxin Yang, Linchao Zhu, Yu Wu, Yi Yang,
CVPR 2020, https://arxiv.org/abs/1909.11519. Official code: https://github.com/z-x-yang/GCT (``GCT.py``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input


@register("gct", kind="attention", inputs=(64, 14, 14), channels=64)
class GCT(nn.Module):
    """Gated channel transformation: global context embedding, channel normalisation and a tanh gate.

    Embedding ``s_c = alpha_c ||x_c||_2`` (``l2`` mode, the default) or ``alpha_c ||x_c||_1``; channel
    normalisation ``s'_c = sqrt(C) s_c / ||s||_2`` (l2) or ``C s_c / ||s||_1`` (l1); gate
    ``x_c (1 + tanh(gamma_c s'_c + beta_c))``. ``3 C`` parameters; with ``gamma = beta = 0`` the gate is the
    identity, which is how the official code starts.

    Args:
        channels: input channels ``C``.
        mode: ``"l2"`` (default) or ``"l1"`` embedding and normalisation.
        eps: ``epsilon`` inside the square roots (1e-5).
        zero_init: start ``gamma`` at 0 as the official code (default false: 0.1, see Deviations).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> gct = cvattn.create("gct", channels=64)
        >>> gct(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        ``gamma`` starts at 0.1 unless ``zero_init``: at 0 no gradient reaches ``alpha`` at the first step.

    Reference:
        Yang, Zhu, Wu, Yang. Gated Channel Transformation for Visual Recognition. CVPR 2020.
    """

    def __init__(self, channels: int, mode: str = "l2", eps: float = 1e-5, zero_init: bool = False) -> None:
        super().__init__()
        if mode not in ("l1", "l2"):
            raise ValueError(f"mode must be 'l1' or 'l2', got {mode!r}")
        self.channels, self.mode, self.eps = channels, mode, eps
        self.alpha = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.gamma = nn.Parameter(torch.full((1, channels, 1, 1), 0.0 if zero_init else 0.1))
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        if self.mode == "l2":
            s = (
                x.pow(2).sum((2, 3), keepdim=True) + self.eps
            ).sqrt() * self.alpha  # global context embedding
            norm = self.gamma / (s.pow(2).mean(1, keepdim=True) + self.eps).sqrt()  # channel normalisation
        else:
            s = x.abs().sum((2, 3), keepdim=True) * self.alpha
            norm = self.gamma / (s.abs().mean(1, keepdim=True) + self.eps)
        return x * (1.0 + torch.tanh(s * norm + self.beta))  # gating adaptation
