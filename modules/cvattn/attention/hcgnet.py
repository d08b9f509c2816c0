"""HCGNet: the SMG module and its gates.

Paper: "Gated Convolutional Networks with Hybrid Connectivity for Image Classification", Chuanguang Yang,
Zhulin An, Hui Zhu, Xiaolong Hu, Kun Zhang, Kaiqiang Xu, Chao Li, Yongjun Xu, AAAI 2020,
https://arxiv.org/abs/1908.09699. Official code: https://github.com/winycg/HCGNet
(``models/HCGNet_ImageNet.py`` and ``models/HCGNet_CIFAR.py``, class ``_SMG``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import BatchNormAnyBatch2d, LayerType, check_input, create_act, get_layer


class _NormActConv(nn.Sequential):
    """Pre-activation convolution ``conv(act(norm(x)))`` without bias (the official ``BasicConv``)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        padding: int = 0,
        dilation: int = 1,
        groups: int = 1,
        norm_layer: LayerType = nn.BatchNorm2d,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__()
        self.norm = get_layer(norm_layer)(in_channels)
        self.act = create_act(act_layer, inplace=True)
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=False,
        )


def _context_pool(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Global context: ``sum_j softmax_j(logits) x_j`` over the positions; ``(N, C, H, W) -> (N, C)``."""
    p = logits.flatten(2).softmax(-1)  # attention over positions: (N, 1, HW)
    return (x.flatten(2) * p).sum(-1)  # (N, C)


@register("hcgnet-gate", kind="attention", inputs=(32, 14, 14), channels=32)
class SMGGate(nn.Module):
    """HCGNet gates: multi-scale excitation with an update gate, plus a forget gate on the reused features.

    With ``x`` the output of the squeeze cell:

    - forget gate: ``c_f = sum_j softmax_j(w_f x_j) x_j`` (global context pooling),
      ``g_f = sigmoid(W_2 tanh(BN(W_1 c_f)))`` (``C -> C/f -> C``), applied as ``x * g_f``;
    - excitation: ``x_3 = dw3x3(x)`` and ``x_5 = dw3x3_dilation2(x)``, both pre-activation (BN-ReLU-conv)
      depthwise convolutions;
    - update gate: each scale is reduced to a global context vector ``c_k = sum_j softmax_j(w_k x_kj) x_kj``;
      ``a = tanh(BN(W_a [c_3, c_5]))`` (``2C -> 2C/r``) and the two scales are mixed per channel with
      ``softmax(W_3 a, W_5 a)`` (a selective-kernel style choice): ``u = s_3 c_3 + s_5 c_5``.

    The output is ``x * g_f + u``: the forget gate decays each channel of the reused features and the update
    gate adds a global (position-independent) context vector to every position.

    Args:
        channels: input channels ``C`` (the growth rate inside an SMG module).
        reduction: reduction ``r`` of the update gate, hidden width ``2C // r`` (official
            ``reduction_factor``: 2 in SMG modules, 4 in transitions).
        forget_reduction: reduction ``f`` of the forget gate, hidden width ``C // f`` (official
            ``forget_factor``: 2 in SMG modules, 4 in transitions).
        act_layer: activation of the pre-activation depthwise convolutions (ReLU).
        norm_layer: normalisation (BatchNorm; the gates' descriptors use :class:`BatchNormAnyBatch2d`
            unless another layer is given).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> gate = cvattn.create("hcgnet-gate", channels=32)
        >>> gate(torch.randn(2, 32, 14, 14)).shape
        torch.Size([2, 32, 14, 14])

    Deviations:
        The official ``BatchNorm1d`` on the ``(N, C')`` gate descriptors is a BatchNorm on ``(N, C', 1, 1)``
        here (the same map, parameters and statistics); with a training batch of one it uses its running
        statistics, where the official code raises. The three 1x1 convolutions that score positions for the
        global context pooling have no bias: a softmax over positions ignores a constant, so the official
        biases never receive a gradient (3 parameters fewer than the official module). The official code
        sets ``H = W = x.size(-1)`` and so only handles square maps; the actual height and width are used
        here.

    Reference:
        Yang et al. Gated Convolutional Networks with Hybrid Connectivity for Image Classification. AAAI 2020.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 2,
        forget_reduction: int = 2,
        act_layer: LayerType = nn.ReLU,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        self.channels = channels
        hidden = max(1, 2 * channels // reduction)
        forget_hidden = max(1, channels // forget_reduction)
        norm = get_layer(norm_layer)
        pooled_norm = BatchNormAnyBatch2d if norm is nn.BatchNorm2d else norm
        # forget gate
        self.forget_context = nn.Conv2d(channels, 1, 1, bias=False)
        self.forget_fc1 = nn.Conv2d(channels, forget_hidden, 1)
        self.forget_bn = pooled_norm(forget_hidden)
        self.forget_fc2 = nn.Conv2d(forget_hidden, channels, 1)
        # multi-scale excitation
        self.conv3x3 = _NormActConv(channels, channels, 3, 1, 1, channels, norm, act_layer)
        self.conv3x3_dilated = _NormActConv(channels, channels, 3, 2, 2, channels, norm, act_layer)
        # update gate
        self.context3x3 = nn.Conv2d(channels, 1, 1, bias=False)
        self.context3x3_dilated = nn.Conv2d(channels, 1, 1, bias=False)
        self.update_fc = nn.Conv2d(2 * channels, hidden, 1)
        self.update_bn = pooled_norm(hidden)
        self.fc3x3 = nn.Conv2d(hidden, channels, 1)
        self.fc3x3_dilated = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        # forget gate on the reused features
        c_f = _context_pool(x, self.forget_context(x))[:, :, None, None]  # (N, C, 1, 1)
        g_f = torch.sigmoid(self.forget_fc2(torch.tanh(self.forget_bn(self.forget_fc1(c_f)))))  # (N, C, 1, 1)
        # multi-scale excitation, each scale pooled to a global context vector
        x_3 = self.conv3x3(x)
        x_5 = self.conv3x3_dilated(x)
        c_3 = _context_pool(x_3, self.context3x3(x_3))[:, :, None, None]  # (N, C, 1, 1)
        c_5 = _context_pool(x_5, self.context3x3_dilated(x_5))[:, :, None, None]  # (N, C, 1, 1)
        # update gate: softmax over the two scales, per channel
        a = torch.tanh(self.update_bn(self.update_fc(torch.cat([c_3, c_5], 1))))  # (N, 2C/r, 1, 1)
        s = torch.stack([self.fc3x3(a), self.fc3x3_dilated(a)], 1).softmax(1)  # (N, 2, C, 1, 1)
        u = s[:, 0] * c_3 + s[:, 1] * c_5  # (N, C, 1, 1)
        return x * g_f + u


@register("hcgnet", kind="block", inputs=(64, 14, 14), channels=64, growth_rate=32)
class SMG(nn.Module):
    """HCGNet's SMG module: squeeze cell, multi-scale excitation with update and forget gates, dense output.

    Squeeze cell: a pre-activation 1x1 convolution to ``bn_size * k`` channels and a pre-activation grouped
    3x3 convolution to the growth rate ``k`` (BN-ReLU-conv, no bias). The result goes through
    :class:`SMGGate` (forget gate ``x * g_f`` plus the update gate's multi-scale global context), and the
    module output is the input concatenated with the ``k`` new channels (dense connectivity).

    Args:
        channels: input channels ``C``.
        growth_rate: new channels ``k`` (HCGNet-B uses 32, 48, 64, 96 in its four stages).
        bn_size: width factor of the 1x1 bottleneck, ``bn_size * k`` channels (official: 4).
        groups: groups of the 3x3 convolution of the squeeze cell (official: 4).
        reduction: reduction of the update gate, hidden width ``2k // reduction`` (official: 2).
        forget_reduction: reduction of the forget gate, hidden width ``k // forget_reduction`` (official: 2).
        act_layer: activation of the pre-activation convolutions (ReLU).
        norm_layer: normalisation (BatchNorm).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C + k, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> smg = cvattn.create("hcgnet", channels=64, growth_rate=32)
        >>> smg(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 96, 14, 14])

    Deviations:
        As :class:`SMGGate`: BatchNorm on ``(N, C', 1, 1)`` descriptors, no bias on the three position-scoring
        convolutions (3 parameters fewer than the official module), non-square maps allowed.

    Reference:
        Yang et al. Gated Convolutional Networks with Hybrid Connectivity for Image Classification. AAAI 2020.
    """

    def __init__(
        self,
        channels: int,
        growth_rate: int = 32,
        bn_size: int = 4,
        groups: int = 4,
        reduction: int = 2,
        forget_reduction: int = 2,
        act_layer: LayerType = nn.ReLU,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        if growth_rate % groups or (bn_size * growth_rate) % groups:
            raise ValueError(
                f"growth_rate ({growth_rate}) and bn_size * growth_rate must be divisible by groups ({groups})"
            )
        self.channels, self.growth_rate = channels, growth_rate
        self.squeeze1x1 = _NormActConv(
            channels, bn_size * growth_rate, 1, norm_layer=norm_layer, act_layer=act_layer
        )
        self.squeeze3x3 = _NormActConv(
            bn_size * growth_rate, growth_rate, 3, 1, 1, groups, norm_layer=norm_layer, act_layer=act_layer
        )
        self.gate = SMGGate(growth_rate, reduction, forget_reduction, act_layer, norm_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        y = self.gate(self.squeeze3x3(self.squeeze1x1(x)))  # (N, k, H, W)
        return torch.cat([x, y], 1)  # dense connectivity: (N, C + k, H, W)
