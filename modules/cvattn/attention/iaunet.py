"""Interaction-Aggregation-Update (IAU) unit of IAUnet.

Paper: "IAUnet: Global Context-Aware Feature Learning for Person Re-Identification", Ruibing Hou, Bingpeng Ma,
Hong Chang, Xinqian Gu, Shiguang Shan, Xilin Chen, IEEE TNNLS 2020, https://arxiv.org/abs/2009.01035
(extends "Interaction-and-Aggregation Network for Person Re-identification", CVPR 2019). Official code:
https://github.com/blue-blue272/ImgReID-IAnet (``models/IAU.py``, ``models/SIAU.py``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import BatchNormAnyBatch2d, ConvNormAct, LayerType, check_input, get_layer


@register("iaunet", kind="attention", inputs=(64, 16, 8), channels=64)
class IAU(nn.Module):
    """IAU block: channel interaction (CIAU) followed by part-graph spatial interaction (SIAU).

    CIAU: channels attend to channels, ``y = softmax(X X^T) X`` over the ``C x C`` affinities of the
    flattened map, and ``Z = X + BN(W1 y)``. SIAU: ``P`` soft part maps ``a = sigmoid(BN(conv(Z)))``
    pool ``P`` part features, which with the global average ``u`` are reduced to ``C/2`` (``g``).
    Interaction: the edge weight between parts ``i != j`` is
    ``softmax_j(BN(w . [|x_i - x_j|, u]))``; aggregation: each part becomes
    ``ReLU(BN(W [x_i, sum_j e_ij x_j]))``; update: the mean over parts, concatenated with ``u``,
    passes ``W2`` (conv-BN) and is added to every position of ``Z``. Memory grows with ``C^2 + C*H*W``.

    Args:
        channels: input channels ``C`` (even).
        num_parts: number of part maps ``P`` (official: 4; at least 2, a part never attends to itself).
        norm_layer: normalisation (BatchNorm2d).
        act_layer: activation of the aggregation (ReLU).
        zero_init_last: start ``W1`` and ``W2`` at zero (their BN scale and shift), so the block is the
            identity at initialisation as in the official code.

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> iau = cvattn.create("iaunet", channels=64)
        >>> iau(torch.randn(2, 64, 16, 8)).shape
        torch.Size([2, 64, 16, 8])

    Deviations:
        ``W2``'s BatchNorm normalises the pooled ``(N, C, 1, 1)`` update as the official code does; a
        training batch of one, where the official code raises, is normalised with the running statistics
        (:class:`~cvattn.layers.BatchNormAnyBatch2d`). Returns only the updated map; the part maps ``a``
        that the official block also returns for its
        auxiliary part-mask loss are not returned. ``zero_init_last`` is off by default (the official
        code zero-initialises, which would leave most parameters without gradient at the first step).

    Reference:
        Hou, Ma, Chang, Gu, Shan, Chen. IAUnet: Global Context-Aware Feature Learning for Person
        Re-Identification. IEEE TNNLS 2020.
    """

    def __init__(
        self,
        channels: int,
        num_parts: int = 4,
        norm_layer: LayerType = nn.BatchNorm2d,
        act_layer: LayerType = nn.ReLU,
        zero_init_last: bool = False,
    ) -> None:
        super().__init__()
        if num_parts < 2:
            raise ValueError(f"num_parts must be at least 2, got {num_parts}")
        self.channels, self.num_parts = channels, num_parts
        inter = channels // 2
        self.W1 = ConvNormAct(channels, channels, 1, bias=True, norm_layer=norm_layer, act_layer=None)
        self.part_attn = ConvNormAct(channels, num_parts, 1, bias=True, norm_layer=norm_layer, act_layer=None)
        self.g = nn.Conv2d(channels, inter, 1)
        self.relation = ConvNormAct(2 * inter, 1, 1, bias=True, norm_layer=norm_layer, act_layer=None)
        self.aggregate = ConvNormAct(
            2 * inter, inter, 1, bias=True, norm_layer=norm_layer, act_layer=act_layer
        )
        self.W2 = nn.Conv2d(2 * inter, channels, 1)
        norm = get_layer(norm_layer)
        # the update is one (N, C, 1, 1) vector per sample, as in the official W2; batch 1 must train too
        self.W2_norm = (BatchNormAnyBatch2d if norm is nn.BatchNorm2d else norm)(channels)
        self.register_buffer("self_edge", torch.eye(num_parts, dtype=torch.bool), persistent=False)
        if zero_init_last:
            for bn in (self.W1.bn, self.W2_norm):
                nn.init.zeros_(bn.weight)
                nn.init.zeros_(bn.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        # CIAU: channel interaction
        flat = x.flatten(2)  # (N, C, HW)
        affinity = torch.bmm(flat, flat.transpose(1, 2)).softmax(dim=-1)  # (N, C, C)
        z = x + self.W1(torch.bmm(affinity, flat).reshape(x.shape))
        # SIAU: part features and global node
        z_flat = z.flatten(2)  # (N, C, HW)
        u = z_flat.mean(2)  # (N, C)
        a = torch.sigmoid(self.part_attn(z)).flatten(2)  # part maps: (N, P, HW)
        parts = torch.bmm(a, z_flat.transpose(1, 2))  # (N, P, C)
        nodes = torch.cat([parts.transpose(1, 2), u.unsqueeze(-1)], 2).unsqueeze(-1)  # (N, C, P+1, 1)
        nodes = self.g(nodes).squeeze(-1)  # (N, C/2, P+1)
        x_p, u = nodes[:, :, :-1], nodes[:, :, -1:]  # (N, C/2, P), (N, C/2, 1)
        # interaction: edges from |x_i - x_j| and the global node, no self-edges
        diff = (x_p.unsqueeze(3) - x_p.unsqueeze(2)).abs()  # (N, C/2, P_i, P_j)
        context = u.unsqueeze(-1).expand_as(diff)
        e = self.relation(torch.cat([diff, context], 1)).squeeze(1)  # (N, P_i, P_j)
        e = e.masked_fill(self.self_edge, float("-inf")).softmax(dim=-1)
        # aggregation and update
        neighbours = torch.bmm(x_p, e.transpose(1, 2))  # sum_j e_ij x_j: (N, C/2, P)
        s = self.aggregate(torch.cat([x_p, neighbours], 1).unsqueeze(-1))  # (N, C/2, P, 1)
        update = self.W2(torch.cat([s.mean(2), u], 1).unsqueeze(-1))  # (N, C, 1, 1)
        return z + self.W2_norm(update)  # (N, C, 1, 1), broadcast to every position
