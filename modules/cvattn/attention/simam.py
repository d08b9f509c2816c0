"""SimAM: a parameter-free 3-D attention derived from an energy function of each neuron.

Paper: "SimAM: A Simple, Parameter-Free Attention Module for Convolutional Neural Networks", Lingxiao Yang,
Ru-Yuan Zhang, Lida Li, Xiaohua Xie, ICML 2021 (PMLR 139), https://proceedings.mlr.press/v139/yang21o.html.
Official code: https://github.com/ZjjConan/SimAM (``networks/attentions/simam_module.py``, ``simam_module``).
"""

from __future__ import annotations

import torch
from torch import fx, nn

from .._registry import register
from ..layers import check_input


@register("simam", kind="attention", inputs=(64, 14, 14), channels=64)
class SimAM(nn.Module):
    """SimAM: weights every neuron by the inverse of its minimal energy, with no learnable parameter.

    For each channel, with ``n = H*W - 1``, ``mu`` the mean over the map and ``d = (x - mu)^2``, the
    channel variance is ``sigma^2 = sum_{H,W}(d) / n`` and the inverse minimal energy of every neuron is
    ``1/e* = d / (4 (sigma^2 + lambda)) + 1/2`` (the closed-form solution of the paper's energy
    function: a neuron that stands out from the others of its channel has low energy and high
    importance). Output: ``x * sigmoid(1/e*)``, a full ``C x H x W`` attention. Memory grows with
    ``C*H*W`` (a few element-wise maps of the input's size).

    Args:
        channels: channels ``C``; only checked against the input (the module has no parameter).
        e_lambda: regulariser ``lambda`` of the energy function (official class default: 1e-4).

    Shape:
        - Input: ``(N, C, H, W)`` with ``H*W >= 2``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> simam = cvattn.create("simam", channels=64)
        >>> simam(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Raises ``ValueError`` on a ``1 x 1`` map, where ``n = 0`` makes the official code return NaN.

    Reference:
        Yang, Zhang, Li, Xie. SimAM: A Simple, Parameter-Free Attention Module for Convolutional Neural
        Networks. ICML 2021.
    """

    def __init__(self, channels: int, e_lambda: float = 1e-4) -> None:
        super().__init__()
        if e_lambda < 0:
            raise ValueError(f"e_lambda must be non-negative, got {e_lambda}")
        self.channels, self.e_lambda = channels, e_lambda

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        if not isinstance(x, fx.Proxy) and x.shape[2] * x.shape[3] < 2:
            raise ValueError(f"input: expected at least two positions, got a {x.shape[2]}x{x.shape[3]} map")
        n = x.shape[2] * x.shape[3] - 1
        d = (x - x.mean((2, 3), keepdim=True)).square()  # (t - mu)^2: (N, C, H, W)
        sigma2 = d.sum((2, 3), keepdim=True) / n  # channel variance: (N, C, 1, 1)
        inv_energy = d / (4 * (sigma2 + self.e_lambda)) + 0.5  # 1 / e*: (N, C, H, W)
        return x * torch.sigmoid(inv_energy)
