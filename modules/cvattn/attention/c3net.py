"""Cross-channel communication (C3) block.

Paper: "Cross-channel Communication Networks", Jianwei Yang, Zhile Ren, Chuang Gan, Hongyuan Zhu, Devi Parikh,
NeurIPS 2019, https://proceedings.neurips.cc/paper/2019/hash/d840cc5d906c3e9c84374c8919d2074e-Abstract.html.
Official code: https://github.com/jwyang/C3Net.pytorch (``lib/layers/cross_neuron_distributed.py``,
``_CrossNeuronBlock``, the version ``lib/layers/__init__.py`` and ``lib/model.py`` import).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import LayerType, check_input, create_act


@fx.wrap
def resize_nearest(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``x`` resized to ``size`` by nearest-neighbour interpolation; returned as is when it has that size."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=tuple(size), mode="nearest")


def _default_groups(channels: int) -> int:
    """The official split into groups that communicate separately: one group up to 512 channels, else
    ``C // 512`` groups (lowered here to a divisor of ``C`` when it is not one)."""
    groups = max(1, channels // 512)
    while channels % groups:
        groups -= 1
    return groups


@register("c3net", kind="attention", inputs=(64, 14, 14), channels=64, spatial_size=14)
class C3Block(nn.Module):
    """C3 block: the channels of a layer exchange messages as the nodes of a fully connected graph.

    Each channel's response map, flattened to ``A = H'W'`` values, is a node. A feature encoder, an MLP
    ``A -> A/r -> A`` shared by all channels, embeds every node, ``e_i = enc(x_i)``. The message passer
    weighs node pairs by how close their mean embeddings ``mu_i = mean(e_i)`` are,
    ``a_ji = softmax_i(-(mu_j - mu_i)^2)``, and updates every node by the weighted sum of all nodes,
    ``e'_j = sum_i a_ji e_i``. A feature decoder (an MLP like the encoder) maps ``e'_j`` back to a
    response map, which is added to the input: ``y = relu(x + dec(e'))``. The encoder and decoder act on
    a fixed spatial size ``H' x W'`` (their widths depend on it); an input of another size is resized to
    it (nearest neighbour) and the decoded maps are resized back, as in the official code. With more than
    512 channels the channels are split into ``C // 512`` groups that communicate separately.

    Memory: the message passer builds a ``(C/g) x (C/g)`` weight matrix per sample and group; the encoder
    and decoder have ``O((H'W')^2 / r)`` parameters each.

    Args:
        channels: input channels ``C``.
        spatial_size: ``(H', W')`` (or one int for a square) at which the encoder and decoder work; the
            official networks use the input's own size (the official constructor picks
            ``H // (H // s)`` for a target ``s``, which is the input's size when ``H < 2s``).
        reduction: reduction ratio ``r`` of the encoder's and decoder's hidden width ``A / r`` (official:
            8, the default of ``CrossNeuronlBlock2D`` and of the CIFAR ResNets; the ImageNet helper passes
            4 and the AlexNet 2).
        groups: number of channel groups that communicate separately; ``None`` (default) follows the
            official rule (1 up to 512 channels, else ``C // 512``); must divide ``channels``.
        act_layer: activation inside the encoder and decoder and after the residual sum (ReLU).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> c3 = cvattn.create("c3net", channels=64, spatial_size=14)
        >>> c3(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The official block also defines a ``LayerNorm`` and, when it works below the input's size, depthwise
        down/up-sampling layers, none of which its ``forward`` uses; they are left out (the official module
        counts ``2C`` and ``(factor - 1)(4C + 4C + 4C)`` more parameters). The encoder and decoder are
        ``nn.Linear`` layers on the flattened maps (the official ``nn.Conv1d`` with kernel 1 over the
        positions: the same maps and parameter counts, ``2 (A A/r + A/r + A/r A + A)`` in all). The official
        dropout of rate 0 and the correlation statistics it records for analysis are omitted. An
        automatic group count that does not divide ``C`` is lowered to one that does (the official code
        fails then).

    Reference:
        Yang, Ren, Gan, Zhu, Parikh. Cross-channel Communication Networks. NeurIPS 2019.
    """

    def __init__(
        self,
        channels: int,
        spatial_size: int | tuple[int, int],
        reduction: int = 8,
        groups: int | None = None,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__()
        self.channels = channels
        self.spatial_size = (
            (spatial_size, spatial_size) if isinstance(spatial_size, int) else tuple(spatial_size)
        )
        self.groups = groups or _default_groups(channels)
        if channels % self.groups:
            raise ValueError(f"groups ({self.groups}) must divide channels ({channels})")
        area = self.spatial_size[0] * self.spatial_size[1]
        hidden = max(1, area // reduction)
        self.encoder = nn.Sequential(
            nn.Linear(area, hidden), create_act(act_layer, inplace=True), nn.Linear(hidden, area)
        )
        self.decoder = nn.Sequential(
            nn.Linear(area, hidden), create_act(act_layer, inplace=True), nn.Linear(hidden, area)
        )
        self.act = create_act(act_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        z = resize_nearest(x, self.spatial_size)  # (N, C, H', W')
        nodes = z.reshape(-1, self.channels // self.groups, z.shape[2] * z.shape[3])  # (N g, C/g, A)
        e = self.encoder(nodes)  # feature encoder: (N g, C/g, A)
        mu = e.mean(2)  # mean embedding of each channel: (N g, C/g)
        a = torch.softmax(-(mu.unsqueeze(2) - mu.unsqueeze(1)).square(), dim=2)  # a[j, i]: (N g, C/g, C/g)
        e = a @ e  # message passing, e'_j = sum_i a_ji e_i: (N g, C/g, A)
        y = self.decoder(e).reshape(z.shape)  # feature decoder: (N, C, H', W')
        return self.act(x + resize_nearest(y, x.shape[-2:]))
