"""Spectral nonlocal block (SNL).

Paper: "Unifying Nonlocal Blocks for Neural Networks", Lei Zhu, Qi She, Duo Li, Yanye Lu, Xuejing Kang, Jie Hu,
Changhu Wang, ICCV 2021, https://openaccess.thecvf.com/content/ICCV2021/html/Zhu_Unifying_Nonlocal_Blocks_for_Neural_Networks_ICCV_2021_paper.html
(earlier preprint: "A Spectral Nonlocal Block for Neural Networks", arXiv 1911.01059). Official code:
https://github.com/zh460045050/SNL_ICCV2021 (``SNL-Classification/model/nls/basic.py``, ``Stage`` with
``nl_type="snl"``; ``SNL-Classification/model/nls/snl.py``, ``SNLUnit``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input
from ..tokens import from_tokens, to_tokens


class _SNLUnit(nn.Module):
    """One first-order Chebyshev graph filter on the shared affinity, with BN, ReLU and the residual."""

    def __init__(self, channels: int, hidden_channels: int, norm_layer: LayerType) -> None:
        super().__init__()
        self.g = nn.Conv2d(channels, hidden_channels, 1, bias=False)
        self.w_1 = nn.Conv2d(hidden_channels, channels, 1, bias=False)
        self.w_2 = nn.Conv2d(hidden_channels, channels, 1, bias=False)
        self.bn = norm_layer(channels)

    def forward(self, x: torch.Tensor, affinity: torch.Tensor) -> torch.Tensor:
        z = self.g(x)  # (N, P, H, W)
        propagated = from_tokens(torch.bmm(affinity, to_tokens(z)), x.shape[-2:])  # A_hat Z: (N, P, H, W)
        return torch.relu(self.bn(self.w_1(z) + self.w_2(propagated))) + x


@register("snl", kind="attention", inputs=(64, 14, 14), channels=64)
class SpectralNonLocal(nn.Module):
    """Spectral nonlocal block: a graph filter on the normalised, symmetric affinity of all positions.

    The affinity of the fully connected graph over the ``H*W`` positions is
    ``A = (T^T P + P^T T) / 2`` with ``T = ReLU(theta(X))`` and ``P = ReLU(phi(X))`` (1x1 convolutions to
    ``P`` channels); with the degrees ``d_i = sum_j A_ij`` it is normalised as
    ``A_hat = D^-1/2 A D^-1/2`` (a zero degree gives a zero row and column). Each of the ``stage_num``
    units applies a first-order Chebyshev filter to ``Z = g(X)`` and adds the residual:
    ``X <- X + ReLU(BN(Z W_1 + A_hat Z W_2))``; all units share the affinity computed from the block's
    input. Memory grows with ``(H*W)^2`` (the affinity matrix).

    Args:
        channels: input and output channels ``C``.
        hidden_channels: width ``P`` of ``theta``, ``phi`` and ``g`` (official: ``C / div`` with
            ``div = 2``; default ``channels // 2``).
        stage_num: number of units sharing one affinity (official training default ``--stage-nums 1``).
        norm_layer: normalisation after the filter (BatchNorm2d).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> snl = cvattn.create("snl", channels=64)
        >>> snl(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The official ``Stage`` constructor's own default is ``stage_num=5``; the default here is the
        official training script's ``--stage-nums 1``. The other nonlocal variants of the official
        ``Stage`` (``nl``, ``a2``, ``dsnl``, ...) are not offered.

    Reference:
        Zhu, She, Li, Lu, Kang, Hu, Wang. Unifying Nonlocal Blocks for Neural Networks. ICCV 2021.
    """

    def __init__(
        self,
        channels: int,
        hidden_channels: int | None = None,
        stage_num: int = 1,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        hidden_channels = channels // 2 if hidden_channels is None else hidden_channels
        if min(channels, hidden_channels) < 1:
            raise ValueError(
                f"channels ({channels}) and hidden_channels ({hidden_channels}) must be positive"
            )
        if stage_num < 1:
            raise ValueError(f"stage_num must be at least 1, got {stage_num}")
        self.channels, self.hidden_channels = channels, hidden_channels
        self.t = nn.Conv2d(channels, hidden_channels, 1, bias=False)  # theta
        self.p = nn.Conv2d(channels, hidden_channels, 1, bias=False)  # phi
        self.stages = nn.ModuleList(_SNLUnit(channels, hidden_channels, norm_layer) for _ in range(stage_num))

    def affinity(self, x: torch.Tensor) -> torch.Tensor:
        """The normalised symmetric affinity ``A_hat`` of ``x``: ``(N, H*W, H*W)``."""
        t = torch.relu(self.t(x)).flatten(2)  # (N, P, HW)
        p = torch.relu(self.p(x)).flatten(2)
        a = torch.bmm(t.transpose(1, 2), p)  # (N, HW, HW)
        a = (a + a.transpose(1, 2)) / 2
        d = a.sum(dim=2)  # degrees: (N, HW)
        nonzero = d != 0
        d_inv_sqrt = torch.where(
            nonzero, torch.where(nonzero, d, torch.ones_like(d)).rsqrt(), torch.zeros_like(d)
        )
        return a * d_inv_sqrt[:, None, :] * d_inv_sqrt[:, :, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        affinity = self.affinity(x)
        out = x
        for unit in self.stages:
            out = unit(out, affinity)
        return out
