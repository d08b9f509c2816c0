"""SCConv: spatial and channel reconstruction convolution (SRU, then CRU).

Paper: "SCConv: Spatial and Channel Reconstruction Convolution for Feature Redundancy", Jiafeng Li, Ying Wen,
Lianghua He, CVPR 2023, https://openaccess.thecvf.com/content/CVPR2023/html/Li_SCConv_Spatial_and_Channel_Reconstruction_Convolution_for_Feature_Redundancy_CVPR_2023_paper.html.
The authors have released no code; this module follows the paper's equations (1)-(9) and its parameter count (11).
Not to be confused with SCNet's self-calibrated convolution (``blocks/scnet.py``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input


@register("scconv-sru", kind="attention", inputs=(32, 16, 16), channels=32)
class SpatialReconstructionUnit(nn.Module):
    """SRU: separate informative from redundant content with GroupNorm's scales, then cross-reconstruct.

    ``W_gamma = gamma / sum(gamma)`` rates each channel by the scale its GroupNorm learned (more spatial
    variation, larger ``gamma``); ``w = sigmoid(W_gamma * GN(X))`` rates every position. Weights above the
    threshold are set to 1 in the informative weights ``W_1`` and to 0 in the non-informative weights
    ``W_2`` (the others keep their value in both), giving ``X_1 = W_1 X`` and ``X_2 = W_2 X``. Each is cut
    into channel halves and crossed: ``X^w = [X_11 + X_22, X_21 + X_12]``, so that the less informative
    content is added to the informative one instead of being dropped (paper, Eqs. 1-4).

    Args:
        channels: input channels ``C`` (even, and divisible by ``groups``).
        groups: groups of the GroupNorm (not given in the paper; 16 here).
        threshold: the gate threshold on the sigmoid weights (paper: 0.5).
        eps: GroupNorm epsilon.

    Shape:
        - Input: ``(N, channels, H, W)``
        - Output: ``(N, channels, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> sru = cvattn.create("scconv-sru", channels=32)
        >>> sru(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 32, 16, 16])

    Deviations:
        The paper does not give the number of GroupNorm groups (``groups``, 16 by default here).

    Reference:
        Li et al. SCConv: Spatial and Channel Reconstruction Convolution for Feature Redundancy. CVPR 2023.
    """

    def __init__(self, channels: int, groups: int = 16, threshold: float = 0.5, eps: float = 1e-5) -> None:
        super().__init__()
        if channels % 2 or channels % groups:
            raise ValueError(f"channels ({channels}) must be even and divisible by groups ({groups})")
        self.channels = channels
        self.threshold = threshold
        self.gn = nn.GroupNorm(groups, channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        w_gamma = self.gn.weight / self.gn.weight.sum()  # Eq. 2
        w = torch.sigmoid(self.gn(x) * w_gamma[:, None, None])  # Eq. 3 before the gate
        informative = w > self.threshold
        x1 = torch.where(informative, 1.0, w) * x  # W_1 X
        x2 = torch.where(informative, 0.0, w) * x  # W_2 X
        x11, x12 = x1.chunk(2, dim=1)
        x21, x22 = x2.chunk(2, dim=1)
        return torch.cat([x11 + x22, x21 + x12], dim=1)  # Eq. 4


@register("scconv-cru", kind="block", inputs=(32, 16, 16), in_channels=32, out_channels=32)
class ChannelReconstructionUnit(nn.Module):
    """CRU: split the channels, transform a rich part (GWC + PWC) and a cheap part (PWC + reuse), fuse by softmax.

    The ``C_1`` input channels are split into ``alpha C_1`` and ``(1 - alpha) C_1`` and each part is squeezed
    by a 1x1 conv to ``1 / r`` of its width (``X_up``, ``X_low``). The upper "rich feature extractor" sums a
    ``k x k`` group-wise conv (``g`` groups) and a 1x1 point-wise conv of ``X_up``:
    ``Y_1 = M^G X_up + M^P1 X_up``. The lower stage adds cheap detail and reuses its input:
    ``Y_2 = [M^P2 X_low, X_low]``, both ``C_2`` channels wide. A simplified SKNet fusion weighs them per
    channel by a softmax over their global average pools: ``beta = softmax(S_1, S_2)``,
    ``Y = beta_1 Y_1 + beta_2 Y_2`` (paper, Eqs. 5-9). No conv has a bias (the parameter count, Eq. 11).

    Args:
        in_channels: input channels ``C_1``.
        out_channels: output channels ``C_2``.
        alpha: split ratio (paper: 1/2; 0 < alpha < 1).
        squeeze_ratio: squeeze ratio ``r`` (paper: 2).
        groups: groups ``g`` of the group-wise conv (paper: 2).
        kernel_size: kernel ``k`` of the group-wise conv (paper: 3).

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> cru = cvattn.create("scconv-cru", in_channels=32, out_channels=64)
        >>> cru(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Reference:
        Li et al. SCConv: Spatial and Channel Reconstruction Convolution for Feature Redundancy. CVPR 2023.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        alpha: float = 0.5,
        squeeze_ratio: int = 2,
        groups: int = 2,
        kernel_size: int = 3,
    ) -> None:
        super().__init__()
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
        self.in_channels = in_channels
        self.up = int(alpha * in_channels)
        self.low = in_channels - self.up
        up_sq, low_sq = self.up // squeeze_ratio, self.low // squeeze_ratio
        if min(up_sq, low_sq) < 1 or up_sq % groups or out_channels % groups or out_channels <= low_sq:
            raise ValueError(
                f"in_channels={in_channels}, out_channels={out_channels}, alpha={alpha}, "
                f"squeeze_ratio={squeeze_ratio}, groups={groups} leave no valid squeezed widths "
                f"({up_sq} and {low_sq} must be positive, {up_sq} and out_channels divisible by groups, "
                f"out_channels above {low_sq})"
            )
        self.squeeze1 = nn.Conv2d(self.up, up_sq, 1, bias=False)
        self.squeeze2 = nn.Conv2d(self.low, low_sq, 1, bias=False)
        self.gwc = nn.Conv2d(
            up_sq, out_channels, kernel_size, padding=kernel_size // 2, groups=groups, bias=False
        )
        self.pwc1 = nn.Conv2d(up_sq, out_channels, 1, bias=False)
        self.pwc2 = nn.Conv2d(low_sq, out_channels - low_sq, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        x_up, x_low = torch.split(x, [self.up, self.low], dim=1)
        x_up, x_low = self.squeeze1(x_up), self.squeeze2(x_low)
        y1 = self.gwc(x_up) + self.pwc1(x_up)  # Eq. 5
        y2 = torch.cat([self.pwc2(x_low), x_low], dim=1)  # Eq. 6
        s = torch.stack([y1.mean((2, 3), keepdim=True), y2.mean((2, 3), keepdim=True)])  # Eq. 7
        beta = torch.softmax(s, dim=0)  # Eq. 8, per channel
        return beta[0] * y1 + beta[1] * y2  # Eq. 9


@register("scconv", kind="block", inputs=(32, 16, 16), in_channels=32, out_channels=32)
class SCConv(nn.Module):
    """SCConv: the spatial reconstruction unit followed by the channel reconstruction unit.

    A drop-in for the 3x3 conv of a bottleneck: the SRU first suppresses spatially redundant content
    (:class:`SpatialReconstructionUnit`), then the CRU replaces the dense ``k x k`` conv by cheap group-wise
    and point-wise convs on split, squeezed channels (:class:`ChannelReconstructionUnit`). The paper's
    ablation puts them in this order (spatial first). With ``alpha = 1/2, r = 2, g = 2, k = 3`` and
    ``C_1 = C_2`` it has about a fifth of the parameters of a 3x3 conv.

    Args:
        in_channels: input channels ``C_1`` (even, divisible by ``gn_groups``).
        out_channels: output channels ``C_2``.
        alpha: split ratio of the CRU (paper: 1/2).
        squeeze_ratio: squeeze ratio ``r`` of the CRU (paper: 2).
        groups: groups ``g`` of the CRU's group-wise conv (paper: 2).
        kernel_size: kernel ``k`` of the group-wise conv (paper: 3).
        gn_groups: GroupNorm groups of the SRU (not given in the paper; 16 here).
        threshold: gate threshold of the SRU (paper: 0.5).

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> conv = cvattn.create("scconv", in_channels=32, out_channels=32)
        >>> conv(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 32, 16, 16])

    Deviations:
        The paper does not give the SRU's number of GroupNorm groups (16 here) nor how a strided 3x3 conv
        is replaced; this block has stride 1.

    Reference:
        Li et al. SCConv: Spatial and Channel Reconstruction Convolution for Feature Redundancy. CVPR 2023.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        alpha: float = 0.5,
        squeeze_ratio: int = 2,
        groups: int = 2,
        kernel_size: int = 3,
        gn_groups: int = 16,
        threshold: float = 0.5,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.sru = SpatialReconstructionUnit(in_channels, gn_groups, threshold)
        self.cru = ChannelReconstructionUnit(
            in_channels, out_channels, alpha, squeeze_ratio, groups, kernel_size
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        return self.cru(self.sru(x))
