"""Global reasoning (GloRe) unit.

Paper: "Graph-Based Global Reasoning Networks", Yunpeng Chen, Marcus Rohrbach, Zhicheng Yan, Shuicheng Yan,
Jiashi Feng, Yannis Kalantidis, CVPR 2019,
https://openaccess.thecvf.com/content_CVPR_2019/html/Chen_Graph-Based_Global_Reasoning_Networks_CVPR_2019_paper.html.
Official code: https://github.com/facebookresearch/GloRe (``network/global_reasoning_unit.py``, ``GloRe_Unit_2D``).
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, get_layer, match_memory_format

_BLOCKER_NORM = partial(nn.BatchNorm2d, eps=1e-4)  # the official final BatchNorm


@register("glore", kind="attention", inputs=(64, 14, 14), channels=64, zero_init=False)
class GloRe(nn.Module):
    """GloRe unit: project pixels onto a few graph nodes, reason with a graph convolution, project back.

    Two 1x1 convolutions give the reduced states ``X'`` (``S = 2M`` channels) and the projection
    ``B`` (``M`` nodes) of every pixel. Weighted global pooling maps the coordinate space to the
    interaction space, ``V = X' B^T`` (``S x M``, divided by ``H*W`` when ``normalize``); one graph
    convolution reasons over the fully connected graph of nodes, ``Z = W_g ReLU(V + V A_g^T)`` (``A_g`` a
    learnt node adjacency with bias, ``W_g`` a state update without bias); weighted broadcasting maps
    back, ``Y = Z B``; the output is ``x + BN(W_e Y)`` with a 1x1 convolution ``W_e`` to ``C`` channels.
    Memory grows with ``H*W*(S + M)``: linear in the number of positions.

    Args:
        channels: input and output channels ``C``.
        num_mid: nodes ``M``; the states have ``2M`` channels (official networks: ``C / 4``, the default).
        normalize: divide the pooled node features by ``H*W`` (official: false; the official docstring
            advises true when the input size varies).
        zero_init: start the final BatchNorm's scale at 0, as the official networks do, so the unit starts
            as an identity (default true; the registry's example configuration uses false so that
            gradients reach every parameter).
        norm_layer: the final normalisation (official: BatchNorm2d with ``eps = 1e-4``).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> glore = cvattn.create("glore", channels=64)
        >>> glore(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The node adjacency ``A_g`` is an ``nn.Linear`` over the node axis instead of an ``nn.Conv1d`` on
        the transposed node features (same weights, squeezed). The zero initialisation of the final
        BatchNorm's scale, done by the official networks after building the unit, is the unit's own
        ``zero_init`` here.

    Reference:
        Chen, Rohrbach, Yan, Yan, Feng, Kalantidis. Graph-Based Global Reasoning Networks. CVPR 2019.
    """

    def __init__(
        self,
        channels: int,
        num_mid: int | None = None,
        normalize: bool = False,
        zero_init: bool = True,
        norm_layer: LayerType = _BLOCKER_NORM,
    ) -> None:
        super().__init__()
        num_mid = channels // 4 if num_mid is None else num_mid
        if channels < 1 or num_mid < 1:
            raise ValueError(f"channels ({channels}) and num_mid ({num_mid}) must be positive")
        self.channels, self.normalize = channels, normalize
        self.num_state, self.num_node = 2 * num_mid, num_mid
        self.conv_state = nn.Conv2d(channels, self.num_state, 1)  # X' = phi(X)
        self.conv_proj = nn.Conv2d(channels, self.num_node, 1)  # B = theta(X)
        self.adjacency = nn.Linear(self.num_node, self.num_node)  # A_g, node-wise
        self.state_update = nn.Conv1d(self.num_state, self.num_state, 1, bias=False)  # W_g, state-wise
        self.conv_extend = nn.Conv2d(self.num_state, channels, 1, bias=False)  # W_e
        self.blocker = get_layer(norm_layer)(channels)
        if zero_init:
            nn.init.zeros_(self.blocker.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        h, w = x.shape[-2:]
        states = self.conv_state(x).flatten(2)  # (N, S, HW)
        proj = self.conv_proj(x).flatten(2)  # (N, M, HW)
        v = torch.matmul(states, proj.transpose(1, 2))  # (N, S, M): coordinate -> interaction space
        if self.normalize:
            v = v / (h * w)
        z = self.state_update(torch.relu(v + self.adjacency(v)))  # graph convolution on the M nodes
        y = torch.matmul(z, proj).unflatten(2, (h, w))  # (N, S, H, W): interaction -> coordinate space
        return match_memory_format(x + self.blocker(self.conv_extend(y)), x)
