"""Pairwise and patchwise self-attention (SAN).

Paper: "Exploring Self-attention for Image Recognition", Hengshuang Zhao, Jiaya Jia, Vladlen Koltun,
CVPR 2020, https://arxiv.org/abs/2004.13621. Official code: https://github.com/hszhao/SAN (``model/san.py``,
the ``SAM`` module; its CUDA ``Subtraction``/``Aggregation`` ops are written here with ``F.unfold``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import LayerType, check_input, create_act


def _neighbours(x: torch.Tensor, kernel_size: int, dilation: int) -> torch.Tensor:
    """The ``k x k`` neighbourhood of every pixel with reflection padding: ``(N, C, k*k, H*W)``."""
    pad = dilation * (kernel_size - 1) // 2
    x_pad = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    patches = F.unfold(x_pad, kernel_size, dilation=dilation)  # (N, C*k*k, H*W)
    return patches.reshape(x.size(0), x.size(1), kernel_size * kernel_size, -1)


@fx.wrap
def _position(x: torch.Tensor) -> torch.Tensor:
    """Normalised pixel coordinates ``(1, 2, H, W)`` in [-1, 1], (x, y) as in the official ``position``."""
    h, w = x.shape[2], x.shape[3]
    loc_w = torch.linspace(-1.0, 1.0, w, device=x.device, dtype=x.dtype).expand(h, w)
    loc_h = torch.linspace(-1.0, 1.0, h, device=x.device, dtype=x.dtype).unsqueeze(1).expand(h, w)
    return torch.stack([loc_w, loc_h]).unsqueeze(0)


class _SAMBase(nn.Module):
    """Shared part of both SAN operators: the three 1x1 maps and the weighted aggregation."""

    def __init__(
        self, channels: int, rel_channels: int | None, share_planes: int, kernel_size: int, dilation: int
    ) -> None:
        super().__init__()
        if channels % share_planes:
            raise ValueError(f"channels ({channels}) must be divisible by share_planes ({share_planes})")
        self.channels = channels
        self.rel_channels = rel_channels or max(1, channels // 16)
        self.share_planes = share_planes
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.conv1 = nn.Conv2d(channels, self.rel_channels, 1)
        self.conv2 = nn.Conv2d(channels, self.rel_channels, 1)
        self.conv3 = nn.Conv2d(channels, channels, 1)

    def aggregate(self, v: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """``y_c = sum_j w_{c mod C/s, j} * beta(x)_{c, j}`` over the ``k x k`` footprint (reflection padded)."""
        beta = _neighbours(v, self.kernel_size, self.dilation)  # (N, C, k*k, H*W)
        beta = beta.reshape(
            v.size(0), self.share_planes, self.channels // self.share_planes, beta.size(2), -1
        )
        y = (beta * w.unsqueeze(1)).sum(3)  # channel c uses weight channel c % (C / s): (N, s, C/s, H*W)
        return y.reshape(v.shape)


@register("san-pairwise", kind="attention", inputs=(64, 14, 14), channels=64)
class SANPairwise(_SAMBase):
    """SAN pairwise self-attention: vector weights from the difference of each pixel to its neighbours.

    For every pixel ``i`` and neighbour ``j`` of its ``k x k`` footprint, the relation
    ``delta = phi(x_i) - psi(x_j)`` (subtraction, ``C_rel`` channels) is concatenated with the
    difference of their learned positions ``p_i - p_j`` (a 1x1 map of the normalised coordinates), mapped
    by ``gamma`` (BN-ReLU-conv-BN-ReLU-conv) to ``C / s`` weights and normalised by a softmax over the
    footprint. The output is ``y_i = sum_j alpha(x_i, x_j) * beta(x_j)`` with the weights shared by
    ``s`` groups of channels. Memory grows linearly with ``H*W`` (``C * k^2`` per pixel).

    Args:
        channels: input and output channels ``C``.
        rel_channels: width ``C_rel`` of the relation embeddings ``phi``, ``psi`` (default ``C // 16``, as
            in the official bottleneck).
        share_planes: ``s``, how many channels share one attention weight (official: 8).
        kernel_size: footprint ``k`` (official: 7 except 3 in the first stage).
        dilation: dilation of the footprint.
        act_layer: activation inside ``gamma`` (ReLU).
        norm_layer: normalisation inside ``gamma`` (BatchNorm2d).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> sam = cvattn.create("san-pairwise", channels=64)
        >>> sam(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Stride is not offered (the module keeps the input's shape). Reflection padding, as the official
        ``pad_mode=1``; it needs ``H, W > dilation * (k - 1) / 2``.

    Reference:
        Zhao, Jia, Koltun. Exploring Self-attention for Image Recognition. CVPR 2020.
    """

    def __init__(
        self,
        channels: int,
        rel_channels: int | None = None,
        share_planes: int = 8,
        kernel_size: int = 7,
        dilation: int = 1,
        act_layer: LayerType = nn.ReLU,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__(channels, rel_channels, share_planes, kernel_size, dilation)
        rel = self.rel_channels
        self.conv_w = nn.Sequential(
            norm_layer(rel + 2),
            create_act(act_layer, inplace=True),
            nn.Conv2d(rel + 2, rel, 1, bias=False),
            norm_layer(rel),
            create_act(act_layer, inplace=True),
            nn.Conv2d(rel, channels // share_planes, 1),
        )
        self.conv_p = nn.Conv2d(2, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        phi, psi, v = self.conv1(x), self.conv2(x), self.conv3(x)
        k, d = self.kernel_size, self.dilation
        delta = phi.flatten(2).unsqueeze(2) - _neighbours(psi, k, d)  # (N, C_rel, k*k, H*W)
        p = self.conv_p(_position(x))  # (1, 2, H, W)
        delta_p = (p.flatten(2).unsqueeze(2) - _neighbours(p, k, d)).expand(x.size(0), -1, -1, -1)
        alpha = self.conv_w(torch.cat([delta, delta_p], 1)).softmax(dim=2)  # (N, C/s, k*k, H*W)
        return self.aggregate(v, alpha)


@register("san-patchwise", kind="attention", inputs=(64, 14, 14), channels=64)
class SANPatchwise(_SAMBase):
    """SAN patchwise self-attention: weights for a whole footprint from the concatenated patch.

    For every pixel ``i``, ``phi(x_i)`` is concatenated with the ``k x k`` patch of ``psi(x)`` around it
    (``C_rel * (k^2 + 1)`` values) and ``gamma`` (BN-ReLU-conv-BN-ReLU-conv) maps them to one weight per
    footprint position and per channel group, ``C / s * k^2`` values, used without normalisation:
    ``y_i = sum_j alpha(x_R(i))_j * beta(x_j)``. Memory grows linearly with ``H*W``.

    Args:
        channels: input and output channels ``C``.
        rel_channels: width ``C_rel`` of ``phi`` and ``psi`` (default ``C // 16``).
        share_planes: ``s``, how many channels share one weight (official: 8).
        kernel_size: footprint ``k`` (official: 7).
        dilation: dilation of the footprint.
        act_layer: activation inside ``gamma`` (ReLU).
        norm_layer: normalisation inside ``gamma`` (BatchNorm2d).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> sam = cvattn.create("san-patchwise", channels=64)
        >>> sam(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Stride is not offered. The official code pads ``psi`` by ``k // 2`` whatever the dilation; here
        the padding follows the dilation, which is the same for the default ``dilation=1``.

    Reference:
        Zhao, Jia, Koltun. Exploring Self-attention for Image Recognition. CVPR 2020.
    """

    def __init__(
        self,
        channels: int,
        rel_channels: int | None = None,
        share_planes: int = 8,
        kernel_size: int = 7,
        dilation: int = 1,
        act_layer: LayerType = nn.ReLU,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__(channels, rel_channels, share_planes, kernel_size, dilation)
        in_w = self.rel_channels * (kernel_size * kernel_size + 1)
        out_w = channels // share_planes
        self.conv_w = nn.Sequential(
            norm_layer(in_w),
            create_act(act_layer, inplace=True),
            nn.Conv2d(in_w, out_w, 1, bias=False),
            norm_layer(out_w),
            create_act(act_layer, inplace=True),
            nn.Conv2d(out_w, kernel_size * kernel_size * out_w, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        phi, psi, v = self.conv1(x), self.conv2(x), self.conv3(x)
        k = self.kernel_size
        phi = phi.flatten(2).unsqueeze(2)  # (N, C_rel, 1, H*W)
        patch = _neighbours(psi, k, self.dilation).flatten(1, 2).unsqueeze(2)  # (N, C_rel*k*k, 1, H*W)
        alpha = self.conv_w(torch.cat([phi, patch], 1))  # (N, C/s*k*k, 1, H*W)
        alpha = alpha.reshape(x.size(0), -1, k * k, alpha.size(-1))  # (N, C/s, k*k, H*W)
        return self.aggregate(v, alpha)
