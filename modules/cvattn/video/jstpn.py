"""Jointly attentive spatial-temporal pooling (ASTPN) for pairs of video sequences.

Paper: "Jointly Attentive Spatial-Temporal Pooling Networks for Video-Based Person Re-Identification", Shuangjie Xu,
Yu Cheng, Kang Gu, Yang Yang, Shiyu Chang, Pan Zhou, ICCV 2017, https://arxiv.org/abs/1708.02286.
Official code (Torch7/Lua): https://github.com/shuangjiexu/Spatial-Temporal-Pooling-Networks-ReID
(``models/spatial_temporal.lua``, ``buildModel_MeanPool_RNN``, and ``layers/MetrixMultiply.lua``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..clips import check_clip

SPP_LEVELS = (8, 4, 2, 1)


@fx.wrap
def recurrence(
    o: torch.Tensor, start: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, p: float, training: bool
) -> torch.Tensor:
    """``r_1 = o_1 + start``, ``r_t = o_t + W dropout(tanh(r_{t-1})) + b`` over the frames of ``o`` ``(N, T, D)``
    (the official ``nn.Recurrent`` with an identity transfer); a leaf for torch.fx, which cannot loop over ``T``."""
    r = o[:, 0] + start
    outputs = [r]
    for t in range(1, o.shape[1]):
        r = o[:, t] + F.linear(F.dropout(torch.tanh(r), p, training), weight, bias)
        outputs.append(r)
    return torch.stack(outputs, 1)


@fx.wrap
def gallery_or_probe(gallery: torch.Tensor | None, probe: torch.Tensor) -> torch.Tensor:
    """The gallery clip, or the probe when there is none (a leaf for torch.fx, which sees every argument)."""
    return probe if gallery is None else gallery


@register("jstpn", kind="fusion", inputs=(32, 4, 16, 12), channels=32)
class AttentiveSpatialTemporalPooling(nn.Module):
    """ASTPN: pool a probe and a gallery sequence into one vector each, each pooling guided by the other sequence.

    *Spatial pooling*: every frame's feature map goes through spatial pyramid max pooling (8x8, 4x4, 2x2 and 1x1
    grids, concatenated), dropout and a fully connected layer to a ``D``-dimensional frame feature; a recurrent
    layer ``r_t = o_t + W tanh(r_{t-1}) + b`` runs over the frames, giving ``P`` ``(T_p, D)`` for the probe and
    ``G`` ``(T_g, D)`` for the gallery (shared weights). *Attentive temporal pooling*: the soft alignment
    ``A = tanh(P U G^T)`` ``(T_p, T_g)`` with a learned ``U`` ``(D, D)`` scores every pair of frames; the row-wise
    and column-wise maxima of ``A``, through a softmax, give the temporal attention ``a_p`` over the probe's frames
    and ``a_g`` over the gallery's, and the pooled vectors are ``v_p = a_p P`` and ``v_g = a_g G``. Each
    sequence's frame weights thus depend on how well its frames match the other sequence.

    Interface: the module takes the two sequences' convolutional features as clips, ``forward(probe, gallery)``,
    and returns both pooled vectors stacked, ``(N, 2, D)`` (``[:, 0]`` the probe's, ``[:, 1]`` the gallery's), the
    inputs of the paper's distance (hinge) and identity losses. The two clips may have different lengths. Without
    a gallery the probe is matched with itself (attentive pooling of one sequence).

    Args:
        channels: channels ``C`` of the frame feature maps (32 in the official network).
        embed_dim: dimension ``D`` of the frame features, the recurrent state and the pooled vectors (128).
        levels: grid sizes of the spatial pyramid pooling (8, 4, 2, 1).
        dropout: dropout before the frame embedding (0.6, the official default).
        rnn_dropout: dropout on the recurrent feedback (0.6, the official default).

    Shape:
        - Input: probe ``(N, C, T_p, H, W)``, optional gallery ``(N, C, T_g, H, W)``
        - Output: ``(N, 2, D)``: ``v_p`` and ``v_g``

    Examples:
        >>> import torch, cvattn
        >>> astpn = cvattn.create("jstpn", channels=32).eval()
        >>> probe, gallery = torch.randn(2, 32, 16, 16, 12), torch.randn(2, 32, 10, 16, 12)
        >>> v = astpn(probe, gallery)
        >>> v.shape
        torch.Size([2, 2, 128])
        >>> distance = (v[:, 0] - v[:, 1]).norm(dim=1)  # the siamese distance of the paper
        >>> distance.shape
        torch.Size([2])

    Deviations:
        The official network (Torch7) builds the three-layer convolutional feature extractor, the recurrent layer
        and the pooling for one pair of sequences at a time and ends with the pairwise distance and two identity
        classifiers; here the module starts from the convolutional features and ends with the two pooled vectors,
        for a batch of pairs. The official input convolutions (on colour and optical flow) and the losses are left
        to the user. Calling it with a probe only (self-matching, the probe's sequence computed twice) is an
        addition.

    Reference:
        Xu et al. Jointly Attentive Spatial-Temporal Pooling Networks for Video-Based Person Re-Identification.
        ICCV 2017.
    """

    def __init__(
        self,
        channels: int,
        embed_dim: int = 128,
        levels: tuple[int, ...] = SPP_LEVELS,
        dropout: float = 0.6,
        rnn_dropout: float = 0.6,
    ) -> None:
        super().__init__()
        self.channels = channels
        self.levels = tuple(levels)
        self.rnn_dropout = rnn_dropout
        self.drop = nn.Dropout(dropout)
        self.embed = nn.Linear(channels * sum(level * level for level in self.levels), embed_dim)
        self.start = nn.Parameter(torch.empty(embed_dim))  # the official nn.Recurrent's first-step nn.Add
        self.feedback = nn.Linear(embed_dim, embed_dim)
        self.U = nn.Parameter(torch.empty(embed_dim, embed_dim))
        with torch.no_grad():  # Torch7 initialisation of nn.Add and of the official MetrixMultiply
            self.start.uniform_(-1 / math.sqrt(embed_dim), 1 / math.sqrt(embed_dim))
            self.U.uniform_(-1 / embed_dim, 1 / embed_dim)

    def sequence(self, x: torch.Tensor) -> torch.Tensor:
        """Spatial pyramid pooling, frame embedding and recurrence: a clip ``(N, C, T, H, W)`` to ``(N, T, D)``."""
        n, frames = x.shape[0], x.shape[2]
        pooled = [  # per frame: (N, C, T, l, l) -> (N, T, C*l*l)
            F.adaptive_max_pool3d(x, (None, level, level)).transpose(1, 2).reshape(n, frames, -1)
            for level in self.levels
        ]
        o = self.embed(self.drop(torch.cat(pooled, 2)))  # (N, T, D)
        return recurrence(
            o, self.start, self.feedback.weight, self.feedback.bias, self.rnn_dropout, self.training
        )

    def forward(self, probe: torch.Tensor, gallery: torch.Tensor | None = None) -> torch.Tensor:
        check_clip(probe, self.channels, type(self).__name__)
        if gallery is not None:
            check_clip(gallery, self.channels, type(self).__name__)
        p = self.sequence(probe)  # (N, T_p, D)
        g = self.sequence(gallery_or_probe(gallery, probe))  # (N, T_g, D)
        attn = torch.tanh(p @ self.U @ g.transpose(1, 2))  # soft alignment of frames: (N, T_p, T_g)
        a_p = torch.softmax(attn.amax(2), 1)  # probe frames: best match in the gallery
        a_g = torch.softmax(attn.amax(1), 1)  # gallery frames: best match in the probe
        v_p = (a_p.unsqueeze(1) @ p).squeeze(1)  # (N, D)
        v_g = (a_g.unsqueeze(1) @ g).squeeze(1)
        return torch.stack((v_p, v_g), 1)
