"""LatentGNN: non-local relations through a small set of latent graph nodes.

Paper: "LatentGNN: Learning Efficient Non-local Relations for Visual Recognition", Songyang Zhang, Shipeng Yan,
Xuming He, ICML 2019, https://proceedings.mlr.press/v97/zhang19f.html. Official code:
https://github.com/latentgnn/LatentGNN-V1-PyTorch (``lib/latentgnn_v1.py``, ``LatentGNNV1``, ``LatentGNN_Kernel``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input, match_memory_format
from ..tokens import from_tokens, to_tokens


class LatentGNNKernel(nn.Module):
    """One latent graph: visible-to-latent, latent-to-latent and latent-to-visible message passing."""

    def __init__(
        self, channels: int, latent_dim: int, symmetric: bool, graph_conv: bool, norm_layer: LayerType
    ):
        super().__init__()
        self.symmetric = symmetric
        if symmetric:
            self.psi = ConvNormAct(channels, latent_dim, norm_layer=norm_layer, inplace=False)
        else:
            self.psi_v2l = ConvNormAct(channels, latent_dim, norm_layer=norm_layer, inplace=False)
            self.psi_l2v = ConvNormAct(channels, latent_dim, norm_layer=norm_layer, inplace=False)
        self.graph_conv = (
            ConvNormAct(channels, channels, norm_layer=norm_layer, inplace=False) if graph_conv else None
        )
        if graph_conv:
            nn.init.normal_(self.graph_conv.conv.weight, std=0.01)

    def forward(self, x_v2l: torch.Tensor, x_l2v: torch.Tensor) -> torch.Tensor:
        size = x_v2l.shape[-2:]
        if self.symmetric:
            adj_v2l = adj_l2v = F.normalize(self.psi(x_v2l).flatten(2), dim=1)  # (N, D, HW)
        else:
            adj_v2l = F.normalize(self.psi_v2l(x_v2l).flatten(2), dim=2)  # normalised over the pixels
            adj_l2v = F.normalize(self.psi_l2v(x_l2v).flatten(2), dim=1)  # normalised over the latent nodes
        z = torch.bmm(adj_v2l, to_tokens(x_v2l))  # latent nodes: (N, D, C')
        z_n = F.normalize(z, dim=-1)
        z = F.scaled_dot_product_attention(z_n, z_n, z, scale=1.0)  # softmax(z_n z_n^T) z
        y = from_tokens(torch.bmm(adj_l2v.transpose(1, 2), z), size)  # back to the pixels: (N, C', H, W)
        return self.graph_conv(y) if self.graph_conv is not None else y


@register("latentgnn", kind="attention", inputs=(64, 14, 14), channels=64)
class LatentGNN(nn.Module):
    """LatentGNN: a bipartite graph to ``D`` latent nodes replaces the dense ``(H*W) x (H*W)`` affinity.

    The input is reduced to ``C' = C / channel_stride`` channels and L2-normalised over channels (``x_v``).
    Per latent kernel, ``psi`` (1x1 conv, norm, ReLU) gives ``D`` adjacency maps; visible-to-latent
    ``Z = psi_v2l(x_v) x_v^T`` with each map L2-normalised over the pixels; latent-to-latent
    ``Z <- softmax(Z_n Z_n^T) Z`` with ``Z_n`` the rows of ``Z`` L2-normalised; latent-to-visible
    ``y = Z^T psi_l2v(x_v)`` with each pixel's adjacency L2-normalised over the latent nodes. The kernels'
    outputs are concatenated and raised back to ``C`` channels (1x1 conv and norm), and
    ``out = x + gamma * y``. Memory grows with ``H*W*D`` per kernel, linearly in the positions.

    Args:
        channels: input channels ``C``.
        latent_dims: latent nodes ``D`` of each kernel; their number is the number of kernels (the
            official class has no default; its example uses ``[100, 100]``).
        channel_stride: channel reduction ``C / C'`` (official default 4).
        mode: ``"asymmetric"`` (separate reductions and adjacencies for the two directions, official default)
            or ``"symmetric"`` (one, shared).
        residual: return ``x + gamma * y`` (official default, ``without_residual=False``); otherwise ``y``.
        graph_conv: a 1x1 conv, norm and ReLU after latent-to-visible (official default False).
        norm_layer: normalisation after each 1x1 conv (official default ``nn.BatchNorm2d``).
        zero_init: start ``gamma`` at 0 as the official code (default false: 0.1, see Deviations).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> gnn = cvattn.create("latentgnn", channels=64)
        >>> gnn(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The number of kernels is ``len(latent_dims)`` instead of a separate ``num_kernels`` argument, and the
        normalisation function is fixed to ``F.normalize`` (the official default). ``gamma`` starts at 0.1
        unless ``zero_init``: at 0 no gradient reaches the graph at the first step, which the package's
        gradient check rejects.

    Reference:
        Zhang, Yan, He. LatentGNN: Learning Efficient Non-local Relations for Visual Recognition. ICML 2019.
    """

    def __init__(
        self,
        channels: int,
        latent_dims: Sequence[int] = (100, 100),
        channel_stride: int = 4,
        mode: str = "asymmetric",
        residual: bool = True,
        graph_conv: bool = False,
        norm_layer: LayerType = nn.BatchNorm2d,
        zero_init: bool = False,
    ) -> None:
        super().__init__()
        if mode not in ("asymmetric", "symmetric"):
            raise ValueError(f"mode must be 'asymmetric' or 'symmetric', got {mode!r}")
        if channel_stride <= 0 or channels < channel_stride:
            raise ValueError(f"channel_stride must be in [1, channels ({channels})], got {channel_stride}")
        latent_dims = tuple(latent_dims)
        if not latent_dims or any(d <= 0 for d in latent_dims):
            raise ValueError(f"latent_dims must be a non-empty list of positive sizes, got {latent_dims}")
        self.channels, self.latent_dims, self.mode, self.residual = channels, latent_dims, mode, residual
        inter = channels // channel_stride
        symmetric = mode == "symmetric"
        if symmetric:
            self.down_channel = ConvNormAct(channels, inter, norm_layer=norm_layer, act_layer=None)
        else:
            self.down_channel_v2l = ConvNormAct(channels, inter, norm_layer=norm_layer, act_layer=None)
            self.down_channel_l2v = ConvNormAct(channels, inter, norm_layer=norm_layer, act_layer=None)
        self.kernels = nn.ModuleList(
            LatentGNNKernel(inter, d, symmetric, graph_conv, norm_layer) for d in latent_dims
        )
        self.up_channel = ConvNormAct(
            inter * len(latent_dims), channels, norm_layer=norm_layer, act_layer=None
        )
        self.gamma = nn.Parameter(torch.zeros(1) if zero_init else torch.full((1,), 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        if self.mode == "symmetric":
            x_v2l = x_l2v = F.normalize(self.down_channel(x), dim=1)
        else:
            x_v2l = F.normalize(self.down_channel_v2l(x), dim=1)
            x_l2v = F.normalize(self.down_channel_l2v(x), dim=1)
        y = torch.cat([kernel(x_v2l, x_l2v) for kernel in self.kernels], dim=1)
        y = self.up_channel(y)
        out = x + self.gamma * y if self.residual else y
        return match_memory_format(out, x)
