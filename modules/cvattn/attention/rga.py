"""Relation-Aware Global Attention (RGA).

Paper: "Relation-Aware Global Attention for Person Re-identification", Zhizheng Zhang, Cuiling Lan, Wenjun Zeng,
Xin Jin, Zhibo Chen, CVPR 2020, https://arxiv.org/abs/1904.02998. Official code:
https://github.com/microsoft/Relation-Aware-Global-Attention-Networks (``reid/models/models_utils/rga_modules.py``).
"""

from __future__ import annotations

import torch
from torch import fx, nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input


def _check_spatial(x: torch.Tensor, size: tuple[int, int]) -> None:
    """RGA's layers are sized by ``H*W``: refuse another spatial size with a clear message."""
    if isinstance(x, fx.Proxy) or x.dim() != 4:
        return
    if tuple(x.shape[2:]) != tuple(size):
        raise ValueError(
            f"input: expected shape (N, C, {size[0]}, {size[1]}) (the spatial_size given at construction), "
            f"got {tuple(x.shape)}"
        )


class _RGABase(nn.Module):
    def __init__(self, channels, spatial_size, down_ratio, norm_layer, act_layer):
        super().__init__()
        self.channels = channels
        self.spatial_size = tuple(spatial_size)
        self.down_ratio = down_ratio
        self.norm_layer, self.act_layer = norm_layer, act_layer

    def _cna(self, in_channels: int, out_channels: int) -> ConvNormAct:
        return ConvNormAct(
            in_channels, out_channels, 1, norm_layer=self.norm_layer, act_layer=self.act_layer, inplace=False
        )

    def _weight_net(self, in_channels: int, norm_layer: LayerType, act_layer: LayerType) -> nn.Sequential:
        """``W``: conv-BN-ReLU to ``in/d`` then conv-BN to one attention logit."""
        hidden = max(1, in_channels // self.down_ratio)
        return nn.Sequential(
            ConvNormAct(in_channels, hidden, 1, norm_layer=norm_layer, act_layer=act_layer, inplace=False),
            ConvNormAct(hidden, 1, 1, norm_layer=norm_layer, act_layer=None),
        )


@register(
    "rga-spatial",
    kind="attention",
    inputs=(64, 16, 8),
    odd_inputs=(64, 16, 8),
    channels=64,
    spatial_size=(16, 8),
)
class RGASpatial(_RGABase):
    """RGA-S: spatial attention from each position's relations to all positions, and its own feature.

    With ``theta``, ``phi`` (conv-BN-ReLU to ``C/c``) the pairwise affinity is
    ``r_ij = theta(x_i) . phi(x_j)``, an ``HW x HW`` matrix. For position ``i`` the relation feature
    stacks its row and its column, ``[r_i,:, r_:,i]`` (``2HW`` values, read as channels), embedded by
    ``psi_r`` (conv-BN-ReLU to ``HW/s``); the feature itself is embedded by ``psi_x`` (conv-BN-ReLU to
    ``C/c``) and averaged over channels. ``W`` maps ``[mean(psi_x(x_i)), psi_r(r_i)]`` to one logit and
    the output is ``sigmoid(a_i) * x_i``. Memory grows with ``(H*W)^2``.

    Args:
        channels: input channels ``C``.
        spatial_size: ``(H, W)`` of the inputs; the relation embedding has ``2HW`` input channels, so
            the module is built for one spatial size (official: fixed by the re-id image size).
        channel_ratio: ``c``, reduction of the channel embeddings (official ``cha_ratio``: 8).
        spatial_ratio: ``s``, reduction of the relation embedding (official ``spa_ratio``: 8).
        down_ratio: reduction inside ``W`` (official: 8).
        norm_layer: normalisation (BatchNorm2d).
        act_layer: activation (ReLU).

    Shape:
        - Input: ``(N, C, H, W)`` with ``(H, W) == spatial_size``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> rga = cvattn.create("rga-spatial", channels=64, spatial_size=(16, 8))
        >>> rga(torch.randn(2, 64, 16, 8)).shape
        torch.Size([2, 64, 16, 8])

    Deviations:
        The hidden width of ``W`` is at least 1 (the official ``(1 + C') // d`` is 0 for small maps).
        Another ``H, W`` than ``spatial_size`` raises ``ValueError``, as the
        mechanism itself is tied to one size; the registry's odd-size test uses the native size.

    Reference:
        Zhang, Lan, Zeng, Jin, Chen. Relation-Aware Global Attention for Person Re-identification. CVPR 2020.
    """

    def __init__(
        self,
        channels: int,
        spatial_size: tuple[int, int],
        channel_ratio: int = 8,
        spatial_ratio: int = 8,
        down_ratio: int = 8,
        norm_layer: LayerType = nn.BatchNorm2d,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__(channels, spatial_size, down_ratio, norm_layer, act_layer)
        hw = self.spatial_size[0] * self.spatial_size[1]
        self.inter_channels = channels // channel_ratio
        self.inter_spatial = hw // spatial_ratio
        self.theta = self._cna(channels, self.inter_channels)
        self.phi = self._cna(channels, self.inter_channels)
        self.psi_x = self._cna(channels, self.inter_channels)
        self.psi_r = self._cna(2 * hw, self.inter_spatial)
        self.W = self._weight_net(1 + self.inter_spatial, norm_layer, act_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        _check_spatial(x, self.spatial_size)
        n, h, w = x.size(0), x.shape[2], x.shape[3]
        theta = self.theta(x).flatten(2)  # (N, C', HW)
        phi = self.phi(x).flatten(2)  # (N, C', HW)
        r = torch.bmm(theta.transpose(1, 2), phi)  # r_ij: (N, HW, HW)
        r_in = r.transpose(1, 2).reshape(n, h * w, h, w)  # channel j at position i holds r_ji
        r_out = r.reshape(n, h * w, h, w)  # channel j at position i holds r_ij
        relation = self.psi_r(torch.cat([r_in, r_out], 1))  # (N, HW/s, H, W)
        own = self.psi_x(x).mean(1, keepdim=True)  # (N, 1, H, W)
        a = self.W(torch.cat([own, relation], 1))  # (N, 1, H, W)
        return torch.sigmoid(a) * x


@register(
    "rga-channel",
    kind="attention",
    inputs=(64, 16, 8),
    odd_inputs=(64, 16, 8),
    channels=64,
    spatial_size=(16, 8),
)
class RGAChannel(_RGABase):
    """RGA-C: channel attention from each channel's relations to all channels, and its own feature map.

    Each channel is a node whose feature is its ``HW`` values. With ``theta``, ``phi``
    (conv-BN-ReLU on the ``HW`` "channels", to ``HW/s``) the channel affinity is
    ``r_ij = theta(x_i) . phi(x_j)``, a ``C x C`` matrix; ``[r_i,:, r_:,i]`` is embedded by ``psi_r``
    (conv-BN-ReLU from ``2C`` to ``C/c``), the channel's own map by ``psi_x`` (conv-BN-ReLU to ``HW/s``,
    averaged); ``W`` maps both to one logit per channel and the output is ``sigmoid(a_c) * x_c``.
    Memory grows with ``C^2 + C*H*W``.

    Args:
        channels: input channels ``C``.
        spatial_size: ``(H, W)`` of the inputs (the embeddings have ``HW`` input channels).
        channel_ratio: ``c``, reduction of the relation embedding (official ``cha_ratio``: 8).
        spatial_ratio: ``s``, reduction of the spatial embeddings (official ``spa_ratio``: 8).
        down_ratio: reduction inside ``W`` (official: 8).
        norm_layer: normalisation (BatchNorm2d).
        act_layer: activation (ReLU).

    Shape:
        - Input: ``(N, C, H, W)`` with ``(H, W) == spatial_size``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> rga = cvattn.create("rga-channel", channels=64, spatial_size=(16, 8))
        >>> rga(torch.randn(2, 64, 16, 8)).shape
        torch.Size([2, 64, 16, 8])

    Deviations:
        Another ``H, W`` than ``spatial_size`` raises ``ValueError`` (see ``rga-spatial``); the hidden
        width of ``W`` is at least 1.

    Reference:
        Zhang, Lan, Zeng, Jin, Chen. Relation-Aware Global Attention for Person Re-identification. CVPR 2020.
    """

    def __init__(
        self,
        channels: int,
        spatial_size: tuple[int, int],
        channel_ratio: int = 8,
        spatial_ratio: int = 8,
        down_ratio: int = 8,
        norm_layer: LayerType = nn.BatchNorm2d,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__(channels, spatial_size, down_ratio, norm_layer, act_layer)
        hw = self.spatial_size[0] * self.spatial_size[1]
        self.inter_channels = channels // channel_ratio
        self.inter_spatial = hw // spatial_ratio
        self.theta = self._cna(hw, self.inter_spatial)
        self.phi = self._cna(hw, self.inter_spatial)
        self.psi_x = self._cna(hw, self.inter_spatial)
        self.psi_r = self._cna(2 * channels, self.inter_channels)
        self.W = self._weight_net(1 + self.inter_channels, norm_layer, act_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        _check_spatial(x, self.spatial_size)
        n, c = x.size(0), x.size(1)
        xc = x.flatten(2).transpose(1, 2).unsqueeze(-1)  # positions as channels: (N, HW, C, 1)
        theta = self.theta(xc).squeeze(-1)  # (N, HW/s, C)
        phi = self.phi(xc).squeeze(-1)  # (N, HW/s, C)
        r = torch.bmm(theta.transpose(1, 2), phi)  # r_ij: (N, C, C)
        relation = self.psi_r(torch.cat([r.transpose(1, 2), r], 1).unsqueeze(-1))  # (N, C/c, C, 1)
        own = self.psi_x(xc).mean(1, keepdim=True)  # (N, 1, C, 1)
        a = self.W(torch.cat([own, relation], 1))  # (N, 1, C, 1)
        return torch.sigmoid(a).reshape(n, c, 1, 1) * x
