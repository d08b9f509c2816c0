"""Polarized self-attention (PSA), parallel and sequential layouts.

Paper: "Polarized Self-Attention: Towards High-quality Pixel-wise Regression", Huajun Liu, Fuqiang Liu,
Xinyi Fan, Dong Huang, arXiv 2021 (journal version "... Towards High-quality Pixel-wise Mapping", Neurocomputing
2022), https://arxiv.org/abs/2107.00782.
Official code: https://github.com/DeLightCMU/PSA (``semantic-segmentation/network/PSA.py``, ``PSA_p`` and
``PSA_s``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act


def _check_channels(channels: int) -> None:
    if channels < 2:
        raise ValueError(f"channels must be at least 2 (the branches use channels // 2), got {channels}")


def _channel_context(x: torch.Tensor, wq: nn.Module, wv: nn.Module) -> torch.Tensor:
    """``sum_j softmax_j(W_q x)_j W_v x_j``: the channel-only branch's pooled ``(N, C/2, 1, 1)`` vector."""
    q = torch.softmax(wq(x).flatten(2), dim=-1)  # (N, 1, HW), softmax over positions
    v = wv(x).flatten(2)  # (N, C/2, HW)
    return (v @ q.transpose(1, 2)).unsqueeze(-1)  # (N, C/2, 1, 1)


@register("polarized-self-attention", kind="attention", inputs=(64, 14, 14), channels=64)
class PolarizedSelfAttention(nn.Module):
    """Polarized self-attention, parallel layout: a channel-only and a spatial-only gate, summed.

    Channel-only branch: ``W_q: C -> 1`` and ``W_v: C -> C/2`` are 1x1 convolutions;
    ``A_ch = sigmoid(W_z(sum_j softmax_j(W_q x) (W_v x)_j))`` with ``W_z: C/2 -> C``, one weight per
    channel. Spatial-only branch: ``g = GAP(W_q' x)`` (``C/2`` values) and
    ``A_sp = sigmoid(softmax_{HW}(g^T W_v' x))``, one weight per position. Output
    ``A_ch * x + A_sp * x``. Each branch keeps full resolution along its own axis (``C/2`` channels,
    ``H*W`` positions) while collapsing the other completely. Memory grows linearly with ``H*W``
    (``C/2`` maps of ``H*W``, no ``(H*W)^2`` attention matrix).

    This follows the official ``PSA_p``, which departs from the paper's equations: ``W_z`` has no
    LayerNorm, and the spatial branch applies the softmax to the ``H*W`` product ``g^T W_v' x`` instead of
    to the pooled query ``g`` over its channels.

    Args:
        channels: input and output channels ``C`` (the official ``inplanes`` and ``planes``, equal);
            the branches use ``C // 2`` channels.

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> psa = cvattn.create("polarized-self-attention", channels=64)
        >>> psa(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The official ``kernel_size`` and ``stride`` arguments are not provided: the first is unused and a
        stride other than 1 makes the gates mismatch the input. ``planes`` equals ``channels``.

    Reference:
        Liu, Liu, Fan, Huang. Polarized Self-Attention: Towards High-quality Pixel-wise Regression.
        arXiv:2107.00782, 2021.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        _check_channels(channels)
        self.channels = channels
        inner = channels // 2
        # channel-only branch
        self.ch_wq = nn.Conv2d(channels, 1, 1, bias=False)
        self.ch_wv = nn.Conv2d(channels, inner, 1, bias=False)
        self.ch_wz = nn.Conv2d(inner, channels, 1, bias=False)
        # spatial-only branch
        self.sp_wq = nn.Conv2d(channels, inner, 1, bias=False)
        self.sp_wv = nn.Conv2d(channels, inner, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        a_ch = torch.sigmoid(self.ch_wz(_channel_context(x, self.ch_wq, self.ch_wv)))  # (N, C, 1, 1)
        g = self.sp_wq(x).mean((2, 3)).unsqueeze(1)  # GAP of the query: (N, 1, C/2)
        s = g @ self.sp_wv(x).flatten(2)  # (N, 1, HW)
        a_sp = torch.sigmoid(torch.softmax(s, dim=-1)).reshape_as(x[:, :1])  # (N, 1, H, W)
        return x * a_ch + x * a_sp


@register("polarized-self-attention-sequential", kind="attention", inputs=(64, 14, 14), channels=64)
class PolarizedSelfAttentionSequential(nn.Module):
    """Polarized self-attention, sequential layout: the channel-only gate, then the spatial-only gate.

    Channel-only branch: ``A_ch = sigmoid(W_z(sum_j softmax_j(W_q x) (W_v x)_j))`` with ``W_q: C -> 1``,
    ``W_v: C -> C/2`` and ``W_z`` the bottleneck ``1x1 conv (C/2 -> C/(2r)) - LayerNorm - ReLU - 1x1 conv
    (-> C)``; ``y = A_ch * x``. Spatial-only branch on ``y``: ``g = GAP(W_q' y)`` and
    ``A_sp = sigmoid(g^T softmax_{HW}(W_v' y))``, the softmax taken over positions for each of the
    ``C/2`` channels; output ``A_sp * y``. Memory grows linearly with ``H*W`` (``C/2`` maps of ``H*W``).

    This follows the official ``PSA_s``, which departs from the paper's equations: ``W_z`` is a
    bottleneck (the paper: one 1x1 conv and LayerNorm), and the spatial softmax normalises ``W_v' y`` over
    positions instead of the pooled query ``g`` over its channels.

    Args:
        channels: input and output channels ``C`` (the official ``inplanes`` and ``planes``, equal).
        reduction: bottleneck ratio ``r`` of ``W_z`` (official 4, fixed in its code); hidden width
            ``(C // 2) // r``.
        act_layer: activation inside ``W_z`` (ReLU).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> psa = cvattn.create("polarized-self-attention-sequential", channels=64)
        >>> psa(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The official ``kernel_size`` and ``stride`` arguments are not provided (unused, or breaking the
        gating); ``planes`` equals ``channels``. ``reduction`` is an argument instead of a constant.

    Reference:
        Liu, Liu, Fan, Huang. Polarized Self-Attention: Towards High-quality Pixel-wise Regression.
        arXiv:2107.00782, 2021.
    """

    def __init__(self, channels: int, reduction: int = 4, act_layer: LayerType = nn.ReLU) -> None:
        super().__init__()
        _check_channels(channels)
        inner = channels // 2
        hidden = inner // reduction if reduction > 0 else 0
        if hidden < 1:
            raise ValueError(
                f"(channels // 2) // reduction must be at least 1, got {channels} and {reduction}"
            )
        self.channels = channels
        # channel-only branch
        self.ch_wq = nn.Conv2d(channels, 1, 1, bias=False)
        self.ch_wv = nn.Conv2d(channels, inner, 1, bias=False)
        self.ch_wz = nn.Sequential(
            nn.Conv2d(inner, hidden, 1),
            nn.LayerNorm([hidden, 1, 1]),
            create_act(act_layer, inplace=True),
            nn.Conv2d(hidden, channels, 1),
        )
        # spatial-only branch
        self.sp_wq = nn.Conv2d(channels, inner, 1, bias=False)
        self.sp_wv = nn.Conv2d(channels, inner, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        a_ch = torch.sigmoid(self.ch_wz(_channel_context(x, self.ch_wq, self.ch_wv)))  # (N, C, 1, 1)
        y = x * a_ch
        g = self.sp_wq(y).mean((2, 3)).unsqueeze(1)  # GAP of the query: (N, 1, C/2)
        v = torch.softmax(self.sp_wv(y).flatten(2), dim=-1)  # (N, C/2, HW), softmax over positions
        a_sp = torch.sigmoid(g @ v).reshape_as(x[:, :1])  # (N, 1, H, W)
        return y * a_sp
